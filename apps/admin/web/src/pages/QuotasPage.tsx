import { type FormEvent, useState } from 'react';
import { api, type ApiKey, type Quota, type QuotaScope } from '../api';
import { Confirm, ErrorNote, messageOf, numberOrNull, PageHeader, useLoad } from '../ui';

const SCOPES: { scope: QuotaScope; label: string }[] = [
  { scope: 'default_user', label: 'Every user (default)' },
  { scope: 'default_key', label: 'Every API key (default)' },
  { scope: 'user', label: 'One user' },
  { scope: 'api_key', label: 'One API key' },
];

const limitText = (v: number | null) => (v === null ? 'unlimited' : v.toLocaleString());

/** Rate limits (requests per minute) and token quotas (per day, per month), by scope. */
export function QuotasPage() {
  const quotas = useLoad(() => api.quotas(), []);
  const users = useLoad(() => api.users(), []);
  const [error, setError] = useState<string | null>(null);
  const [removing, setRemoving] = useState<Quota | null>(null);
  const emailOf = new Map(users.data?.data.map((u) => [u.id, u.email]));

  return (
    <>
      <PageHeader title="Quotas and rate limits" />
      <QuotaForm
        users={users.data?.data ?? []}
        onSaved={async () => {
          await quotas.reload();
        }}
      />
      <ErrorNote error={error ?? quotas.error} />
      <section className="panel">
        {quotas.data && quotas.data.length === 0 ? (
          <p className="empty">
            No quotas: every user and key may send as much as the backends take.
          </p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Applies to</th>
                <th>Requests / minute</th>
                <th>Tokens / day</th>
                <th>Tokens / month</th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {quotas.data?.map((q) => (
                <tr key={`${q.scope}:${q.subjectId}`}>
                  <td>
                    {SCOPES.find((s) => s.scope === q.scope)?.label}
                    {q.subjectId && (
                      <>
                        {': '}
                        <span className="mono">{emailOf.get(q.subjectId) ?? q.subjectId}</span>
                      </>
                    )}
                  </td>
                  <td>{limitText(q.requestsPerMinute)}</td>
                  <td>{limitText(q.tokensPerDay)}</td>
                  <td>{limitText(q.tokensPerMonth)}</td>
                  <td className="actions">
                    <button type="button" className="small" onClick={() => setRemoving(q)}>
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {removing && (
        <Confirm
          title="Remove this quota?"
          body="What it covered falls back to the default (or to no limit)."
          confirmLabel="Remove quota"
          onCancel={() => setRemoving(null)}
          onConfirm={() => {
            const q = removing;
            setRemoving(null);
            setError(null);
            api.deleteQuota(q.scope, q.subjectId).then(
              () => quotas.reload(),
              (err: unknown) => setError(messageOf(err)),
            );
          }}
        />
      )}
    </>
  );
}

function QuotaForm(props: { users: { id: string; email: string }[]; onSaved(): Promise<void> }) {
  const [scope, setScope] = useState<QuotaScope>('default_user');
  const [userId, setUserId] = useState('');
  const [keyId, setKeyId] = useState('');
  const [keys, setKeys] = useState<ApiKey[]>([]);
  const [rpm, setRpm] = useState('');
  const [perDay, setPerDay] = useState('');
  const [perMonth, setPerMonth] = useState('');
  const [error, setError] = useState<string | null>(null);

  function pickUser(id: string) {
    setUserId(id);
    setKeyId('');
    setKeys([]);
    if (id && scope === 'api_key') {
      api.keys(id).then(
        (r) => setKeys(r.data.filter((k) => !k.revokedAt)),
        (err: unknown) => setError(messageOf(err)),
      );
    }
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      await api.setQuota({
        scope,
        subjectId: scope === 'user' ? userId : scope === 'api_key' ? keyId : null,
        requestsPerMinute: numberOrNull(rpm),
        tokensPerDay: numberOrNull(perDay),
        tokensPerMonth: numberOrNull(perMonth),
      });
      await props.onSaved();
    } catch (err) {
      setError(messageOf(err));
    }
  }

  return (
    <form className="panel form-row" onSubmit={submit} aria-labelledby="quota-form-title">
      <h2 id="quota-form-title">Set a quota</h2>
      <label>
        Applies to
        <select
          value={scope}
          onChange={(e) => {
            setScope(e.target.value as QuotaScope);
            setUserId('');
            setKeyId('');
          }}
        >
          {SCOPES.map((s) => (
            <option key={s.scope} value={s.scope}>
              {s.label}
            </option>
          ))}
        </select>
      </label>
      {(scope === 'user' || scope === 'api_key') && (
        <label>
          User
          <select required value={userId} onChange={(e) => pickUser(e.target.value)}>
            <option value="">Choose…</option>
            {props.users.map((u) => (
              <option key={u.id} value={u.id}>
                {u.email}
              </option>
            ))}
          </select>
        </label>
      )}
      {scope === 'api_key' && (
        <label>
          API key
          <select required value={keyId} onChange={(e) => setKeyId(e.target.value)}>
            <option value="">Choose…</option>
            {keys.map((k) => (
              <option key={k.id} value={k.id}>
                {k.name} ({k.prefix})
              </option>
            ))}
          </select>
        </label>
      )}
      <label>
        Requests per minute
        <input
          type="number"
          min={1}
          placeholder="unlimited"
          value={rpm}
          onChange={(e) => setRpm(e.target.value)}
        />
      </label>
      <label>
        Tokens per day
        <input
          type="number"
          min={1}
          placeholder="unlimited"
          value={perDay}
          onChange={(e) => setPerDay(e.target.value)}
        />
      </label>
      <label>
        Tokens per month
        <input
          type="number"
          min={1}
          placeholder="unlimited"
          value={perMonth}
          onChange={(e) => setPerMonth(e.target.value)}
        />
      </label>
      <button type="submit" className="primary">
        Save quota
      </button>
      <ErrorNote error={error} />
    </form>
  );
}
