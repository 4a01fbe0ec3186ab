import { type FormEvent, useState } from 'react';
import { api, type ApiKey } from '../api';
import type { PageProps } from '../App';
import { linkProps } from '../router';
import {
  Confirm,
  ErrorNote,
  formatTime,
  listFromText,
  messageOf,
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
  const [error, setError] = useState<string | null>(null);

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
        {keys.data && keys.data.data.length === 0 ? (
          <p className="empty">This user has no API keys.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Prefix</th>
                <th>Models</th>
                <th>Expires</th>
                <th>Last used</th>
                <th>Status</th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
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
            </tbody>
          </table>
        )}
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
            setError(null);
            api.revokeKey(k.prefix).then(
              () => keys.reload(),
              (err: unknown) => setError(messageOf(err)),
            );
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
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      const { key } = await api.createKey(props.userId, {
        name,
        models: listFromText(models),
        expiresIn: expiresIn || null,
      });
      setName('');
      setModels('');
      setExpiresIn('');
      await props.onCreated(key);
    } catch (err) {
      setError(messageOf(err));
    }
  }

  return (
    <form className="panel form-row" onSubmit={submit} aria-labelledby="create-key-title">
      <h2 id="create-key-title">Create an API key</h2>
      <label>
        Key name
        <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Models (comma-separated; empty: all the user may use)
        <input value={models} onChange={(e) => setModels(e.target.value)} />
      </label>
      <label>
        Expires in (e.g. 30d, 12h; empty: never)
        <input value={expiresIn} onChange={(e) => setExpiresIn(e.target.value)} />
      </label>
      <button type="submit" className="primary">
        Create key
      </button>
      <ErrorNote error={error} />
    </form>
  );
}
