import i18next from 'i18next';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiFailure, type ErasureResult, type LegalHold, type Me } from '../api';
import { Field, useAction, UserSelect } from '../forms';
import { Confirm, ErrorNote, formatTime, isoFromLocal, ListTable, useLoad } from '../ui';

/**
 * Legal holds (events and messages that retention and erasure must keep) and the erasure of a
 * person's data. Admins and auditors see the holds; only admins place, release and erase, and
 * only they are shown those controls. A server without holds (404) shows nothing here.
 */
export function LegalHolds({ me }: { me: Me }) {
  const holds = useLoad(async () => {
    try {
      return await api.holds();
    } catch (err) {
      if (err instanceof ApiFailure && err.status === 404) return null;
      throw err;
    }
  }, []);
  const isAdmin = me.role === 'admin';
  const users = useLoad(() => (isAdmin ? api.users() : Promise.resolve({ data: [] })), [isAdmin]);
  const { error, run } = useAction(holds.reload);
  const [releasing, setReleasing] = useState<LegalHold | null>(null);
  const { t } = useTranslation();

  if (holds.data === null && !holds.error) return null;
  const people = users.data?.data ?? [];

  return (
    <section className="panel" aria-labelledby="holds-title">
      <h2 id="holds-title">{t('holds.title')}</h2>
      <p className="muted">{t('holds.intro')}</p>
      <ErrorNote error={error ?? holds.error} />
      <ListTable
        columns={[t('holds.covers'), t('holds.reason'), t('holds.placed'), t('users.status')]}
        actions={isAdmin}
        empty={holds.data?.data.length === 0 && t('holds.none')}
      >
        {holds.data?.data.map((h) => (
          <tr key={h.id}>
            <td>{covers(h)}</td>
            <td className="wrap">{h.reason}</td>
            <td className="time">
              {formatTime(h.createdAt)}
              {h.createdBy && ` ${t('holds.by', { who: h.createdBy })}`}
            </td>
            <td>
              {h.active ? (
                <span className="badge bad">{t('users.active')}</span>
              ) : (
                <span className="badge off">
                  {t('holds.released', { when: formatTime(h.releasedAt) })}
                </span>
              )}
            </td>
            {isAdmin && (
              <td className="actions">
                {h.active && (
                  <button type="button" className="small" onClick={() => setReleasing(h)}>
                    {t('holds.release')}
                  </button>
                )}
              </td>
            )}
          </tr>
        ))}
      </ListTable>
      {isAdmin && (
        <>
          <PlaceHold people={people} onPlaced={() => holds.reload()} />
          <Erasure people={people} />
        </>
      )}
      {releasing && (
        <Confirm
          title={t('holds.releaseTitle')}
          body={t('holds.releaseBody', { covers: covers(releasing) })}
          confirmLabel={t('holds.releaseHold')}
          onCancel={() => setReleasing(null)}
          onConfirm={() => {
            const h = releasing;
            setReleasing(null);
            void run(() => api.releaseHold(h.id));
          }}
        />
      )}
    </section>
  );
}

function covers(h: LegalHold): string {
  const t = i18next.t;
  const who = h.userId ? (h.userEmail ?? h.userId) : t('holds.everyone');
  const from = h.from ? t('holds.fromTime', { when: formatTime(h.from) }) : '';
  const to = h.to ? t('holds.until', { when: formatTime(h.to) }) : '';
  return [who, from, to].filter(Boolean).join(', ');
}

type Person = { id: string; email: string };

function PlaceHold(props: { people: Person[]; onPlaced(): Promise<void> }) {
  const [userId, setUserId] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [reason, setReason] = useState('');
  const { error, submit } = useAction();
  const { t } = useTranslation();

  return (
    <form
      className="form-row"
      aria-labelledby="place-hold-title"
      onSubmit={submit(async () => {
        await api.createHold({
          ...(userId ? { userId } : {}),
          ...(isoFromLocal(from) ? { from: isoFromLocal(from) } : {}),
          ...(isoFromLocal(to) ? { to: isoFromLocal(to) } : {}),
          reason: reason.trim(),
        });
        setUserId('');
        setFrom('');
        setTo('');
        setReason('');
        await props.onPlaced();
      })}
    >
      <h3 id="place-hold-title">{t('holds.place')}</h3>
      <UserSelect
        label={t('holds.person')}
        none={t('holds.everyoneRange')}
        users={props.people}
        value={userId}
        onChange={setUserId}
      />
      <Field label={t('audit.from')} type="datetime-local" value={from} onChange={setFrom} />
      <Field label={t('holds.untilLabel')} type="datetime-local" value={to} onChange={setTo} />
      <Field
        label={t('holds.reason')}
        required
        minLength={5}
        placeholder={t('holds.holdExample')}
        value={reason}
        onChange={setReason}
      />
      <button type="submit">{t('holds.placeButton')}</button>
      <ErrorNote error={error} />
    </form>
  );
}

function Erasure(props: { people: Person[] }) {
  const [userId, setUserId] = useState('');
  const [reason, setReason] = useState('');
  const [asking, setAsking] = useState(false);
  const [result, setResult] = useState<ErasureResult | null>(null);
  const { error, run } = useAction();
  const email = props.people.find((u) => u.id === userId)?.email ?? '';
  const { t } = useTranslation();

  function erase() {
    setAsking(false);
    setResult(null);
    void run(async () => {
      setResult(await api.erase(userId, reason.trim()));
      setReason('');
    });
  }

  return (
    <form
      className="form-row"
      aria-labelledby="erasure-title"
      onSubmit={(e) => {
        e.preventDefault();
        setAsking(true);
      }}
    >
      <h3 id="erasure-title">{t('holds.erase')}</h3>
      <p className="muted">{t('holds.eraseIntro')}</p>
      <UserSelect
        label={t('holds.person')}
        none={t('quotas.choose')}
        required
        users={props.people}
        value={userId}
        onChange={setUserId}
      />
      <Field
        label={t('holds.reason')}
        required
        minLength={5}
        placeholder={t('holds.eraseExample')}
        value={reason}
        onChange={setReason}
      />
      <button type="submit" className="danger">
        {t('holds.eraseButton')}
      </button>
      <ErrorNote error={error} />
      {result && (
        <p className="notice ok" role="status">
          {t('holds.erased', {
            events: result.auditEvents,
            messages: result.messages,
            conversations: result.conversations,
            comments: result.feedbackComments,
            responses: result.storedResponses,
          })}
        </p>
      )}
      {asking && (
        <Confirm
          title={t('holds.eraseTitle', { email })}
          body={t('holds.eraseBody')}
          confirmLabel={t('holds.eraseForGood')}
          onCancel={() => setAsking(false)}
          onConfirm={erase}
        />
      )}
    </form>
  );
}
