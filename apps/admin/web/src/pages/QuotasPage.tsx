import { currentLanguage } from '@enclave/web';
import i18next from 'i18next';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type ApiKey, type Quota, type QuotaScope } from '../api';
import { Field, FormPanel, useAction, UserSelect } from '../forms';
import { Confirm, ErrorNote, ListTable, numberOrNull, PageHeader, useLoad } from '../ui';

/** The scopes, each named by its key in the `quotas.scopes` strings. */
const SCOPES: QuotaScope[] = ['default_user', 'default_key', 'user', 'api_key'];

const limitText = (v: number | null) =>
  v === null ? i18next.t('quotas.unlimited') : v.toLocaleString(currentLanguage());

/** Rate limits (requests per minute) and token quotas (per day, per month), by scope. */
export function QuotasPage() {
  const quotas = useLoad(() => api.quotas(), []);
  const users = useLoad(() => api.users(), []);
  const { error, run } = useAction(quotas.reload);
  const [removing, setRemoving] = useState<Quota | null>(null);
  const emailOf = new Map(users.data?.data.map((u) => [u.id, u.email]));
  const { t } = useTranslation();

  return (
    <>
      <PageHeader title={t('quotas.title')} />
      <QuotaForm
        users={users.data?.data ?? []}
        onSaved={async () => {
          await quotas.reload();
        }}
      />
      <ErrorNote error={error ?? quotas.error} />
      <section className="panel">
        <ListTable
          columns={[
            t('quotas.appliesTo'),
            t('quotas.rpmColumn'),
            t('quotas.dayColumn'),
            t('quotas.monthColumn'),
          ]}
          actions
          empty={quotas.data?.length === 0 && t('quotas.none')}
        >
          {quotas.data?.map((q) => (
            <tr key={`${q.scope}:${q.subjectId}`}>
              <td>
                {t(`quotas.scopes.${q.scope}`)}
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
                  {t('quotas.remove')}
                </button>
              </td>
            </tr>
          ))}
        </ListTable>
      </section>
      {removing && (
        <Confirm
          title={t('quotas.removeTitle')}
          body={t('quotas.removeBody')}
          confirmLabel={t('quotas.removeQuota')}
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
  const { t } = useTranslation();

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
      title={t('quotas.set')}
      submitLabel={t('quotas.save')}
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
        {t('quotas.appliesTo')}
        <select
          value={scope}
          onChange={(e) => {
            setScope(e.target.value as QuotaScope);
            setUserId('');
            setKeyId('');
          }}
        >
          {SCOPES.map((s) => (
            <option key={s} value={s}>
              {t(`quotas.scopes.${s}`)}
            </option>
          ))}
        </select>
      </label>
      {(scope === 'user' || scope === 'api_key') && (
        <UserSelect
          label={t('quotas.user')}
          none={t('quotas.choose')}
          required
          users={props.users}
          value={userId}
          onChange={pickUser}
        />
      )}
      {scope === 'api_key' && (
        <label>
          {t('quotas.apiKey')}
          <select required value={keyId} onChange={(e) => setKeyId(e.target.value)}>
            <option value="">{t('quotas.choose')}</option>
            {keys.map((k) => (
              <option key={k.id} value={k.id}>
                {k.name} ({k.prefix})
              </option>
            ))}
          </select>
        </label>
      )}
      <Limit label={t('quotas.rpm')} value={rpm} onChange={setRpm} />
      <Limit label={t('quotas.perDay')} value={perDay} onChange={setPerDay} />
      <Limit label={t('quotas.perMonth')} value={perMonth} onChange={setPerMonth} />
    </FormPanel>
  );
}

/** A limit's field: a whole number from 1, empty for no limit. */
function Limit(props: { label: string; value: string; onChange(value: string): void }) {
  const { t } = useTranslation();
  return <Field type="number" min={1} placeholder={t('quotas.unlimited')} {...props} />;
}
