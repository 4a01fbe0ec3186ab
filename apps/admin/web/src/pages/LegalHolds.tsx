import { type FormEvent, useState } from 'react';
import { api, ApiFailure, type ErasureResult, type LegalHold, type Me } from '../api';
import { Confirm, ErrorNote, formatTime, isoFromLocal, messageOf, useLoad } from '../ui';

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
  const [releasing, setReleasing] = useState<LegalHold | null>(null);
  const [error, setError] = useState<string | null>(null);

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
      {holds.data && holds.data.data.length === 0 ? (
        <p className="empty">No legal holds.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Covers</th>
              <th>Reason</th>
              <th>Placed</th>
              <th>Status</th>
              {isAdmin && (
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
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
          </tbody>
        </table>
      )}
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
            setError(null);
            api.releaseHold(h.id).then(
              () => holds.reload(),
              (err: unknown) => setError(messageOf(err)),
            );
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
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    try {
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
    } catch (err) {
      setError(messageOf(err));
    }
  }

  return (
    <form className="form-row" onSubmit={submit} aria-labelledby="place-hold-title">
      <h3 id="place-hold-title">Place a hold</h3>
      <label>
        Person
        <select value={userId} onChange={(e) => setUserId(e.target.value)}>
          <option value="">everyone (time range only)</option>
          {props.people.map((u) => (
            <option key={u.id} value={u.id}>
              {u.email}
            </option>
          ))}
        </select>
      </label>
      <label>
        From
        <input type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />
      </label>
      <label>
        Until
        <input type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />
      </label>
      <label>
        Reason
        <input
          required
          minLength={5}
          placeholder="e.g. litigation LIT-2026-07"
          value={reason}
          onChange={(e) => setReason(e.target.value)}
        />
      </label>
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
  const [error, setError] = useState<string | null>(null);
  const email = props.people.find((u) => u.id === userId)?.email ?? '';

  async function erase() {
    setAsking(false);
    setError(null);
    setResult(null);
    try {
      setResult(await api.erase(userId, reason.trim()));
      setReason('');
    } catch (err) {
      setError(messageOf(err));
    }
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
      <label>
        Person
        <select required value={userId} onChange={(e) => setUserId(e.target.value)}>
          <option value="">Choose…</option>
          {props.people.map((u) => (
            <option key={u.id} value={u.id}>
              {u.email}
            </option>
          ))}
        </select>
      </label>
      <label>
        Reason
        <input
          required
          minLength={5}
          placeholder="e.g. erasure request DSR-118"
          value={reason}
          onChange={(e) => setReason(e.target.value)}
        />
      </label>
      <button type="submit" className="danger">
        Erase…
      </button>
      <ErrorNote error={error} />
      {result && (
        <p className="notice ok" role="status">
          Erased: {result.auditEvents} audit payloads, {result.messages} messages,{' '}
          {result.conversations} conversation titles, {result.feedbackComments} feedback comments.
        </p>
      )}
      {asking && (
        <Confirm
          title={`Erase the data of ${email}?`}
          body="This cannot be undone. The erasure itself is recorded in the audit trail."
          confirmLabel="Erase for good"
          onCancel={() => setAsking(false)}
          onConfirm={() => void erase()}
        />
      )}
    </form>
  );
}
