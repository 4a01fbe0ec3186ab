import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type Role, type User } from '../api';
import { Field, FormPanel, useAction } from '../forms';
import { linkProps } from '../router';
import { Confirm, ErrorNote, formatTime, ListTable, PageHeader, ShownOnce, useLoad } from '../ui';

const ROLES: Role[] = ['user', 'auditor', 'admin'];

/** Accounts: create, change role, disable, reset password; each links to its API keys. */
export function UsersPage() {
  const { t } = useTranslation();
  const users = useLoad(() => api.users(), []);
  const { error, run: act } = useAction(users.reload);
  const [secret, setSecret] = useState<{ title: string; value: string } | null>(null);
  const [confirm, setConfirm] = useState<{ user: User; what: 'reset' | 'disable' } | null>(null);

  return (
    <>
      <PageHeader title={t('users.title')} />
      <CreateUser
        onCreated={async (email, generated) => {
          if (generated) setSecret({ title: t('users.passwordFor', { email }), value: generated });
          await users.reload();
        }}
      />
      <ErrorNote error={error ?? users.error} />
      <section className="panel">
        <ListTable
          columns={[
            t('users.email'),
            t('users.name'),
            t('users.role'),
            t('users.status'),
            t('users.created'),
          ]}
          actions
        >
          {users.data?.data.map((u) => (
            <tr key={u.id}>
              <td>
                <a {...linkProps(`/users/${u.id}`)}>{u.email}</a>
              </td>
              <td>{u.displayName ?? '—'}</td>
              <td>
                <select
                  aria-label={t('users.roleOf', { email: u.email })}
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
                  <span className="badge off">{t('users.disabled')}</span>
                ) : (
                  <span className="badge good">{t('users.active')}</span>
                )}
                {u.passwordChangeRequired && !u.disabledAt && (
                  <span className="badge"> {t('users.oneTime')}</span>
                )}
              </td>
              <td className="time">{formatTime(u.createdAt)}</td>
              <td className="actions">
                <a
                  className="button small"
                  {...linkProps(`/users/${u.id}`)}
                  aria-label={t('users.keysOf', { email: u.email })}
                >
                  {t('users.keys')}
                </a>
                <button
                  type="button"
                  className="small"
                  onClick={() => setConfirm({ user: u, what: 'reset' })}
                >
                  {t('users.reset')}
                </button>
                {u.disabledAt ? (
                  <button
                    type="button"
                    className="small"
                    onClick={() => act(() => api.updateUser(u.id, { disabled: false }))}
                  >
                    {t('users.enable')}
                  </button>
                ) : (
                  <button
                    type="button"
                    className="small"
                    onClick={() => setConfirm({ user: u, what: 'disable' })}
                  >
                    {t('users.disable')}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </ListTable>
      </section>
      {confirm?.what === 'reset' && (
        <Confirm
          title={t('users.resetTitle', { email: confirm.user.email })}
          body={t('users.resetBody')}
          confirmLabel={t('users.reset')}
          onCancel={() => setConfirm(null)}
          onConfirm={() => {
            const u = confirm.user;
            setConfirm(null);
            void act(async () => {
              const { generatedPassword } = await api.resetPassword(u.id);
              setSecret({
                title: t('users.newPasswordFor', { email: u.email }),
                value: generatedPassword,
              });
            });
          }}
        />
      )}
      {confirm?.what === 'disable' && (
        <Confirm
          title={t('users.disableTitle', { email: confirm.user.email })}
          body={t('users.disableBody')}
          confirmLabel={t('users.disable')}
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
          label={t('users.password')}
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
  const { t } = useTranslation();

  return (
    <FormPanel
      title={t('users.add')}
      submitLabel={t('users.create')}
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
      <Field label={t('users.email')} type="email" required value={email} onChange={setEmail} />
      <Field label={t('users.displayName')} value={displayName} onChange={setDisplayName} />
      <label>
        {t('users.role')}
        <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </label>
      <Field
        label={t('users.passwordField')}
        type="password"
        autoComplete="new-password"
        value={password}
        onChange={setPassword}
      />
    </FormPanel>
  );
}
