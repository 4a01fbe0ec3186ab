import { useState } from 'react';
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

  return (
    <>
      <p>
        <a {...linkProps('/users')}>← All users</a>
      </p>
      <PageHeader title={user.data ? `API keys of ${user.data.email}` : 'API keys'} />
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
          columns={['Name', 'Prefix', 'Models', 'Expires', 'Last used', 'Status']}
          actions
          empty={keys.data?.data.length === 0 && 'This user has no API keys.'}
        >
          {keys.data?.data.map((k) => (
            <tr key={k.id}>
              <td>{k.name}</td>
              <td className="mono">{k.prefix}</td>
              <td>{k.models?.join(', ') ?? 'all allowed'}</td>
              <td>{k.expiresAt ? formatTime(k.expiresAt) : 'never'}</td>
              <td className="time">{formatTime(k.lastUsedAt)}</td>
              <td>
                {k.revokedAt ? (
                  <span className="badge off">Revoked</span>
                ) : k.expiresAt && new Date(k.expiresAt) < new Date() ? (
                  <span className="badge off">Expired</span>
                ) : (
                  <span className="badge good">Active</span>
                )}
              </td>
              <td className="actions">
                {!k.revokedAt && (
                  <button
                    type="button"
                    className="small"
                    onClick={() => setRevoking(k)}
                    aria-label={`Revoke ${k.name}`}
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </ListTable>
      </section>
      {revoking && (
        <Confirm
          title={`Revoke the key “${revoking.name}”?`}
          body={`Requests with ${revoking.prefix}… are refused from now on. This cannot be undone.`}
          confirmLabel="Revoke key"
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
          title="New API key"
          label="API key"
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

  return (
    <FormPanel
      title="Create an API key"
      submitLabel="Create key"
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
      <Field label="Key name" required maxLength={100} value={name} onChange={setName} />
      <Field
        label="Models (comma-separated; empty: all the user may use)"
        value={models}
        onChange={setModels}
      />
      <Field
        label="Expires in (e.g. 30d, 12h; empty: never)"
        value={expiresIn}
        onChange={setExpiresIn}
      />
    </FormPanel>
  );
}
