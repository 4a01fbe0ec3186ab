import { useState } from 'react';
import type { PageProps } from '../App';
import { api, type Budget } from '../api';
import { Field, FormPanel, useAction, UserSelect } from '../forms';
import { Confirm, ErrorNote, ListTable, PageHeader, useLoad } from '../ui';

type Scope = Budget['scope'];
type Unit = Budget['unit'];
type Period = Budget['period'];

/** Budgets: a group's or user's tokens or cost per day or month; 429 once used up. */
export function BudgetsPage({ me }: PageProps) {
  const budgets = useLoad(() => api.budgets(), []);
  const groups = useLoad(() => api.groups(), []);
  const users = useLoad(() => (me.role === 'admin' ? api.users() : Promise.resolve(null)), []);
  const currency = useLoad(() => api.modelEntitlements(), []).data?.currency ?? '';
  const [scope, setScope] = useState<Scope>('group');
  const [subjectId, setSubjectId] = useState('');
  const [unit, setUnit] = useState<Unit>('tokens');
  const [period, setPeriod] = useState<Period>('month');
  const [limit, setLimit] = useState('');
  const [removing, setRemoving] = useState<Budget | null>(null);
  const { error, submit } = useAction(budgets.reload);
  const removal = useAction(budgets.reload);
  const isAdmin = me.role === 'admin';

  return (
    <>
      <PageHeader title="Budgets" />
      {isAdmin && (
        <FormPanel
          title="Set a budget"
          submitLabel="Save budget"
          error={error}
          onSubmit={submit(() =>
            api.setBudget({ scope, subjectId, unit, period, limit: Number(limit) }),
          )}
        >
          <label>
            For
            <select
              value={scope}
              onChange={(e) => {
                setScope(e.target.value as Scope);
                setSubjectId('');
              }}
            >
              <option value="group">A group</option>
              <option value="user">A user</option>
            </select>
          </label>
          {scope === 'group' ? (
            <label>
              Group
              <select required value={subjectId} onChange={(e) => setSubjectId(e.target.value)}>
                <option value="">Choose…</option>
                {groups.data?.data.map((g) => (
                  <option key={g.id} value={g.id}>
                    {g.name}
                  </option>
                ))}
              </select>
            </label>
          ) : (
            <UserSelect
              label="User"
              none="Choose…"
              required
              users={users.data?.data ?? []}
              value={subjectId}
              onChange={setSubjectId}
            />
          )}
          <label>
            In
            <select value={unit} onChange={(e) => setUnit(e.target.value as Unit)}>
              <option value="tokens">tokens</option>
              <option value="money">money ({currency})</option>
            </select>
          </label>
          <label>
            Per
            <select value={period} onChange={(e) => setPeriod(e.target.value as Period)}>
              <option value="day">day (UTC)</option>
              <option value="month">month (UTC)</option>
            </select>
          </label>
          <Field
            label="Limit"
            type="number"
            min={0}
            step="any"
            required
            value={limit}
            onChange={setLimit}
          />
        </FormPanel>
      )}
      <ErrorNote error={budgets.error ?? removal.error} />
      <section className="panel">
        <ListTable
          columns={['For', 'Limit', 'Per']}
          actions={isAdmin}
          empty={budgets.data?.data.length === 0 && 'No budgets: usage is limited by quotas only.'}
        >
          {budgets.data?.data.map((b) => (
            <tr key={b.id}>
              <td>
                {b.scope === 'api_key' ? 'API key' : b.scope}: {b.subjectLabel ?? b.subjectId}
              </td>
              <td>
                {b.limit.toLocaleString()} {b.unit === 'money' ? currency : 'tokens'}
              </td>
              <td>{b.period}</td>
              {isAdmin && (
                <td className="actions">
                  <button type="button" className="small" onClick={() => setRemoving(b)}>
                    Remove
                  </button>
                </td>
              )}
            </tr>
          ))}
        </ListTable>
      </section>
      {removing && (
        <Confirm
          title="Remove this budget?"
          body="Requests it refused are accepted again at once."
          confirmLabel="Remove budget"
          onCancel={() => setRemoving(null)}
          onConfirm={() => {
            const b = removing;
            setRemoving(null);
            void removal.run(() => api.deleteBudget(b.id));
          }}
        />
      )}
    </>
  );
}
