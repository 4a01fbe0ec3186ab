import { useState } from 'react';
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

  if (holds.data === null && !holds.error) return null;
  const people = users.data?.data ?? [];

  return (
    <section className="panel" aria-labelledby="holds-title">
      <h2 id="holds-title">Legal holds</h2>
      <p className="muted">
        While a hold is active, retention and erasure keep the audit events and conversation
        messages it covers: a person's, a time range's, or both.
      </p>
      <ErrorNote error={error ?? holds.error} />
      <ListTable
        columns={['Covers', 'Reason', 'Placed', 'Status']}
        actions={isAdmin}
        empty={holds.data?.data.length === 0 && 'No legal holds.'}
      >
        {holds.data?.data.map((h) => (
          <tr key={h.id}>
            <td>{covers(h)}</td>
            <td className="wrap">{h.reason}</td>
            <td className="time">
              {formatTime(h.createdAt)}
              {h.createdBy && ` by ${h.createdBy}`}
            </td>
            <td>
              {h.active ? (
                <span className="badge bad">Active</span>
              ) : (
                <span className="badge off">Released {formatTime(h.releasedAt)}</span>
              )}
            </td>
            {isAdmin && (
              <td className="actions">
                {h.active && (
                  <button type="button" className="small" onClick={() => setReleasing(h)}>
                    Release
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
          title="Release this legal hold?"
          body={`Retention and erasure may then remove what it covered (${covers(releasing)}).`}
          confirmLabel="Release hold"
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
  const who = h.userId ? (h.userEmail ?? h.userId) : 'everyone';
  const from = h.from ? `from ${formatTime(h.from)}` : '';
  const to = h.to ? `until ${formatTime(h.to)}` : '';
  return [who, from, to].filter(Boolean).join(', ');
}

type Person = { id: string; email: string };

function PlaceHold(props: { people: Person[]; onPlaced(): Promise<void> }) {
  const [userId, setUserId] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [reason, setReason] = useState('');
  const { error, submit } = useAction();

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
      <h3 id="place-hold-title">Place a hold</h3>
      <UserSelect
        label="Person"
        none="everyone (time range only)"
        users={props.people}
        value={userId}
        onChange={setUserId}
      />
      <Field label="From" type="datetime-local" value={from} onChange={setFrom} />
      <Field label="Until" type="datetime-local" value={to} onChange={setTo} />
      <Field
        label="Reason"
        required
        minLength={5}
        placeholder="e.g. litigation LIT-2026-07"
        value={reason}
        onChange={setReason}
      />
      <button type="submit">Place hold</button>
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
      <h3 id="erasure-title">Erase a person's data</h3>
      <p className="muted">
        Erases their audit payloads and conversation text for good (a right-to-erasure request); the
        hash chain still verifies. Refused while a hold covers them.
      </p>
      <UserSelect
        label="Person"
        none="Choose…"
        required
        users={props.people}
        value={userId}
        onChange={setUserId}
      />
      <Field
        label="Reason"
        required
        minLength={5}
        placeholder="e.g. erasure request DSR-118"
        value={reason}
        onChange={setReason}
      />
      <button type="submit" className="danger">
        Erase…
      </button>
      <ErrorNote error={error} />
      {result && (
        <p className="notice ok" role="status">
          Erased: {result.auditEvents} audit payloads, {result.messages} messages,{' '}
          {result.conversations} conversation titles, {result.feedbackComments} feedback comments,{' '}
          {result.storedResponses} stored responses.
        </p>
      )}
      {asking && (
        <Confirm
          title={`Erase the data of ${email}?`}
          body="This cannot be undone. The erasure itself is recorded in the audit trail."
          confirmLabel="Erase for good"
          onCancel={() => setAsking(false)}
          onConfirm={erase}
        />
      )}
    </form>
  );
}
