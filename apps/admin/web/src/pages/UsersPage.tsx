import { useState } from 'react';
import { api, type Role, type User } from '../api';
import { Field, FormPanel, useAction } from '../forms';
import { linkProps } from '../router';
import { Confirm, ErrorNote, formatTime, ListTable, PageHeader, ShownOnce, useLoad } from '../ui';

const ROLES: Role[] = ['user', 'auditor', 'admin'];

/** Accounts: create, change role, disable, reset password; each links to its API keys. */
export function UsersPage() {
  const users = useLoad(() => api.users(), []);
  const { error, run: act } = useAction(users.reload);
  const [secret, setSecret] = useState<{ title: string; value: string } | null>(null);
  const [confirm, setConfirm] = useState<{ user: User; what: 'reset' | 'disable' } | null>(null);

  return (
    <>
      <PageHeader title="Users" />
      <CreateUser
        onCreated={async (email, generated) => {
          if (generated) setSecret({ title: `Password for ${email}`, value: generated });
          await users.reload();
        }}
      />
      <ErrorNote error={error ?? users.error} />
      <section className="panel">
        <ListTable columns={['Email', 'Name', 'Role', 'Status', 'Created']} actions>
          {users.data?.data.map((u) => (
            <tr key={u.id}>
              <td>
                <a {...linkProps(`/users/${u.id}`)}>{u.email}</a>
              </td>
              <td>{u.displayName ?? '—'}</td>
              <td>
                <select
                  aria-label={`Role of ${u.email}`}
                  value={u.role}
                  onChange={(e) =>
                    act(() => api.updateUser(u.id, { role: e.target.value as Role }))
                  }
                >
                  {ROLES.map((r) => (
                    <option key={r}>{r}</option>
                  ))}
                </select>
              </td>
              <td>
                {u.disabledAt ? (
                  <span className="badge off">Disabled</span>
                ) : (
                  <span className="badge good">Active</span>
                )}
                {u.passwordChangeRequired && !u.disabledAt && (
                  <span className="badge"> One-time password</span>
                )}
              </td>
              <td className="time">{formatTime(u.createdAt)}</td>
              <td className="actions">
                <a
                  className="button small"
                  {...linkProps(`/users/${u.id}`)}
                  aria-label={`API keys of ${u.email}`}
                >
                  API keys
                </a>
                <button
                  type="button"
                  className="small"
                  onClick={() => setConfirm({ user: u, what: 'reset' })}
                >
                  Reset password
                </button>
                {u.disabledAt ? (
                  <button
                    type="button"
                    className="small"
                    onClick={() => act(() => api.updateUser(u.id, { disabled: false }))}
                  >
                    Enable
                  </button>
                ) : (
                  <button
                    type="button"
                    className="small"
                    onClick={() => setConfirm({ user: u, what: 'disable' })}
                  >
                    Disable
                  </button>
                )}
              </td>
            </tr>
          ))}
        </ListTable>
      </section>
      {confirm?.what === 'reset' && (
        <Confirm
          title={`Reset the password of ${confirm.user.email}?`}
          body="A new password is generated and shown once; the user's sessions end."
          confirmLabel="Reset password"
          onCancel={() => setConfirm(null)}
          onConfirm={() => {
            const u = confirm.user;
            setConfirm(null);
            void act(async () => {
              const { generatedPassword } = await api.resetPassword(u.id);
              setSecret({ title: `New password for ${u.email}`, value: generatedPassword });
            });
          }}
        />
      )}
      {confirm?.what === 'disable' && (
        <Confirm
          title={`Disable ${confirm.user.email}?`}
          body="They can no longer sign in or use their API keys until enabled again."
          confirmLabel="Disable"
          onCancel={() => setConfirm(null)}
          onConfirm={() => {
            const u = confirm.user;
            setConfirm(null);
            void act(() => api.updateUser(u.id, { disabled: true }));
          }}
        />
      )}
      {secret && (
        <ShownOnce
          title={secret.title}
          label="Password"
          secret={secret.value}
          onClose={() => setSecret(null)}
        />
      )}
    </>
  );
}

function CreateUser(props: { onCreated(email: string, generated: string | null): Promise<void> }) {
  const [email, setEmail] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [role, setRole] = useState<Role>('user');
  const [password, setPassword] = useState('');
  const { error, busy, submit } = useAction();

  return (
    <FormPanel
      title="Add a user"
      submitLabel="Create user"
      error={error}
      busy={busy}
      onSubmit={submit(async () => {
        const { user, generatedPassword } = await api.createUser({
          email,
          role,
          password: password || null,
          displayName: displayName || null,
        });
        setEmail('');
        setDisplayName('');
        setPassword('');
        await props.onCreated(user.email, generatedPassword);
      })}
    >
      <Field label="Email" type="email" required value={email} onChange={setEmail} />
      <Field label="Display name" value={displayName} onChange={setDisplayName} />
      <label>
        Role
        <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </label>
      <Field
        label="Password (empty: generate one)"
        type="password"
        autoComplete="new-password"
        value={password}
        onChange={setPassword}
      />
    </FormPanel>
  );
}
