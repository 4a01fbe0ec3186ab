import { useState } from 'react';
import { api, type ApiKey, type Quota, type QuotaScope } from '../api';
import { Field, FormPanel, useAction, UserSelect } from '../forms';
import { Confirm, ErrorNote, ListTable, numberOrNull, PageHeader, useLoad } from '../ui';

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
  const { error, run } = useAction(quotas.reload);
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
        <ListTable
          columns={['Applies to', 'Requests / minute', 'Tokens / day', 'Tokens / month']}
          actions
          empty={
            quotas.data?.length === 0 &&
            'No quotas: every user and key may send as much as the backends take.'
          }
        >
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
        </ListTable>
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
            void run(() => api.deleteQuota(q.scope, q.subjectId));
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
  const { error, run, submit } = useAction();

  function pickUser(id: string) {
    setUserId(id);
    setKeyId('');
    setKeys([]);
    if (id && scope === 'api_key') {
      void run(async () => setKeys((await api.keys(id)).data.filter((k) => !k.revokedAt)));
    }
  }

  return (
    <FormPanel
      title="Set a quota"
      submitLabel="Save quota"
      error={error}
      onSubmit={submit(async () => {
        await api.setQuota({
          scope,
          subjectId: scope === 'user' ? userId : scope === 'api_key' ? keyId : null,
          requestsPerMinute: numberOrNull(rpm),
          tokensPerDay: numberOrNull(perDay),
          tokensPerMonth: numberOrNull(perMonth),
        });
        await props.onSaved();
      })}
    >
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
        <UserSelect
          label="User"
          none="Choose…"
          required
          users={props.users}
          value={userId}
          onChange={pickUser}
        />
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
      <Limit label="Requests per minute" value={rpm} onChange={setRpm} />
      <Limit label="Tokens per day" value={perDay} onChange={setPerDay} />
      <Limit label="Tokens per month" value={perMonth} onChange={setPerMonth} />
    </FormPanel>
  );
}

/** A limit's field: a whole number from 1, empty for no limit. */
function Limit(props: { label: string; value: string; onChange(value: string): void }) {
  return <Field type="number" min={1} placeholder="unlimited" {...props} />;
}
