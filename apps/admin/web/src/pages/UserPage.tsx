import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type ApiKey } from '../api';
import type { PageProps } from '../App';
import { Field, FormPanel, useAction } from '../forms';
import { linkProps } from '../router';
import {
  Confirm,
  ErrorNote,
  formatTime,
  listFromText,
  ListTable,
  PageHeader,
  ShownOnce,
  useLoad,
} from '../ui';

/** One user's API keys: create (the key is shown once) and revoke. */
export function UserPage({ param }: PageProps) {
  const userId = param ?? '';
  const user = useLoad(() => api.user(userId), [userId]);
  const keys = useLoad(() => api.keys(userId), [userId]);
  const [created, setCreated] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const { error, run } = useAction(keys.reload);
  const { t } = useTranslation();

  return (
    <>
      <p>
        <a {...linkProps('/users')}>← {t('keys.allUsers')}</a>
      </p>
      <PageHeader
        title={user.data ? t('users.keysOf', { email: user.data.email }) : t('users.keys')}
      />
      <ErrorNote error={error ?? user.error ?? keys.error} />
      <CreateKey
        userId={userId}
        onCreated={async (key) => {
          setCreated(key);
          await keys.reload();
        }}
      />
      <section className="panel">
        <ListTable
          columns={[
            t('users.name'),
            t('keys.prefix'),
            t('keys.models'),
            t('keys.expires'),
            t('keys.lastUsed'),
            t('users.status'),
          ]}
          actions
          empty={keys.data?.data.length === 0 && t('keys.none')}
        >
          {keys.data?.data.map((k) => (
            <tr key={k.id}>
              <td>{k.name}</td>
              <td className="mono">{k.prefix}</td>
              <td>{k.models?.join(', ') ?? t('keys.allModels')}</td>
              <td>{k.expiresAt ? formatTime(k.expiresAt) : t('keys.never')}</td>
              <td className="time">{formatTime(k.lastUsedAt)}</td>
              <td>
                {k.revokedAt ? (
                  <span className="badge off">{t('keys.revoked')}</span>
                ) : k.expiresAt && new Date(k.expiresAt) < new Date() ? (
                  <span className="badge off">{t('keys.expired')}</span>
                ) : (
                  <span className="badge good">{t('users.active')}</span>
                )}
              </td>
              <td className="actions">
                {!k.revokedAt && (
                  <button
                    type="button"
                    className="small"
                    onClick={() => setRevoking(k)}
                    aria-label={t('keys.revokeNamed', { name: k.name })}
                  >
                    {t('keys.revoke')}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </ListTable>
      </section>
      {revoking && (
        <Confirm
          title={t('keys.revokeTitle', { name: revoking.name })}
          body={t('keys.revokeBody', { prefix: revoking.prefix })}
          confirmLabel={t('keys.revokeKey')}
          onCancel={() => setRevoking(null)}
          onConfirm={() => {
            const k = revoking;
            setRevoking(null);
            void run(() => api.revokeKey(k.prefix));
          }}
        />
      )}
      {created && (
        <ShownOnce
          title={t('keys.newKey')}
          label={t('keys.key')}
          secret={created}
          onClose={() => setCreated(null)}
        />
      )}
    </>
  );
}

function CreateKey(props: { userId: string; onCreated(key: string): Promise<void> }) {
  const [name, setName] = useState('');
  const [models, setModels] = useState('');
  const [expiresIn, setExpiresIn] = useState('');
  const { error, submit } = useAction();
  const { t } = useTranslation();

  return (
    <FormPanel
      title={t('keys.createTitle')}
      submitLabel={t('keys.create')}
      error={error}
      onSubmit={submit(async () => {
        const { key } = await api.createKey(props.userId, {
          name,
          models: listFromText(models),
          expiresIn: expiresIn || null,
        });
        setName('');
        setModels('');
        setExpiresIn('');
        await props.onCreated(key);
      })}
    >
      <Field label={t('keys.name')} required maxLength={100} value={name} onChange={setName} />
      <Field label={t('keys.modelsField')} value={models} onChange={setModels} />
      <Field label={t('keys.expiresField')} value={expiresIn} onChange={setExpiresIn} />
    </FormPanel>
  );
}
