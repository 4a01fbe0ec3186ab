import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { PageProps } from '../App';
import { api, type Budget } from '../api';
import { Field, FormPanel, useAction, UserSelect } from '../forms';
import { Confirm, ErrorNote, ListTable, PageHeader, useLoad } from '../ui';

type Scope = Budget['scope'];
type Unit = Budget['unit'];
type Period = Budget['period'];

/** Budgets: a group's, user's or API key's tokens or cost per day or month; 429 once used up. */
export function BudgetsPage({ me }: PageProps) {
  const { t } = useTranslation();
  const budgets = useLoad(() => api.budgets(), []);
  const groups = useLoad(() => api.groups(), []);
  const users = useLoad(() => (me.role === 'admin' ? api.users() : Promise.resolve(null)), []);
  const currency = useLoad(() => api.modelEntitlements(), []).data?.currency ?? '';
  const [scope, setScope] = useState<Scope>('group');
  const [subjectId, setSubjectId] = useState('');
  // A key's budget: its owner is picked first, then one of their live keys.
  const [keyOwner, setKeyOwner] = useState('');
  const keys = useLoad(
    () => (scope === 'api_key' && keyOwner ? api.keys(keyOwner) : Promise.resolve(null)),
    [scope, keyOwner],
  );
  const [unit, setUnit] = useState<Unit>('tokens');
  const [period, setPeriod] = useState<Period>('month');
  const [limit, setLimit] = useState('');
  const [removing, setRemoving] = useState<Budget | null>(null);
  const { error, submit } = useAction(budgets.reload);
  const removal = useAction(budgets.reload);
  const isAdmin = me.role === 'admin';

  return (
    <>
      <PageHeader title={t('teams.budgets.title')} />
      {isAdmin && (
        <FormPanel
          title={t('teams.budgets.set')}
          submitLabel={t('teams.budgets.save')}
          error={error}
          onSubmit={submit(() =>
            api.setBudget({ scope, subjectId, unit, period, limit: Number(limit) }),
          )}
        >
          <label>
            {t('teams.budgets.for')}
            <select
              value={scope}
              onChange={(e) => {
                setScope(e.target.value as Scope);
                setSubjectId('');
                setKeyOwner('');
              }}
            >
              <option value="group">{t('teams.budgets.aGroup')}</option>
              <option value="user">{t('teams.budgets.aUser')}</option>
              <option value="api_key">{t('teams.budgets.aKey')}</option>
            </select>
          </label>
          {scope === 'group' ? (
            <label>
              {t('teams.budgets.group')}
              <select required value={subjectId} onChange={(e) => setSubjectId(e.target.value)}>
                <option value="">{t('teams.budgets.choose')}</option>
                {groups.data?.data.map((g) => (
                  <option key={g.id} value={g.id}>
                    {g.name}
                  </option>
                ))}
              </select>
            </label>
          ) : scope === 'user' ? (
            <UserSelect
              label={t('teams.budgets.user')}
              none={t('teams.budgets.choose')}
              required
              users={users.data?.data ?? []}
              value={subjectId}
              onChange={setSubjectId}
            />
          ) : (
            <>
              <UserSelect
                label={t('teams.budgets.keyOwner')}
                none={t('teams.budgets.choose')}
                required
                users={users.data?.data ?? []}
                value={keyOwner}
                onChange={(id) => {
                  setKeyOwner(id);
                  setSubjectId('');
                }}
              />
              <label>
                {t('teams.budgets.key')}
                <select required value={subjectId} onChange={(e) => setSubjectId(e.target.value)}>
                  <option value="">{t('teams.budgets.choose')}</option>
                  {keys.data?.data
                    .filter((k) => !k.revokedAt)
                    .map((k) => (
                      <option key={k.id} value={k.id}>
                        {k.name} ({k.prefix})
                      </option>
                    ))}
                </select>
              </label>
            </>
          )}
          <label>
            {t('teams.budgets.in')}
            <select value={unit} onChange={(e) => setUnit(e.target.value as Unit)}>
              <option value="tokens">{t('teams.budgets.tokens')}</option>
              <option value="money">{t('teams.budgets.money', { currency })}</option>
            </select>
          </label>
          <label>
            {t('teams.budgets.per')}
            <select value={period} onChange={(e) => setPeriod(e.target.value as Period)}>
              <option value="day">{t('teams.budgets.day')}</option>
              <option value="month">{t('teams.budgets.month')}</option>
            </select>
          </label>
          <Field
            label={t('teams.budgets.limit')}
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
          columns={[t('teams.budgets.for'), t('teams.budgets.limit'), t('teams.budgets.per')]}
          actions={isAdmin}
          empty={budgets.data?.data.length === 0 && t('teams.budgets.empty')}
        >
          {budgets.data?.data.map((b) => (
            <tr key={b.id}>
              <td>
                {t(`teams.budgets.scope.${b.scope}`)}: {b.subjectLabel ?? b.subjectId}
              </td>
              <td>
                {b.limit.toLocaleString()}{' '}
                {b.unit === 'money' ? currency : t('teams.budgets.tokens')}
              </td>
              <td>{t(`teams.budgets.period.${b.period}`)}</td>
              {isAdmin && (
                <td className="actions">
                  <button type="button" className="small" onClick={() => setRemoving(b)}>
                    {t('teams.budgets.removeButton')}
                  </button>
                </td>
              )}
            </tr>
          ))}
        </ListTable>
      </section>
      {removing && (
        <Confirm
          title={t('teams.budgets.removeTitle')}
          body={t('teams.budgets.removeBody')}
          confirmLabel={t('teams.budgets.removeConfirm')}
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
