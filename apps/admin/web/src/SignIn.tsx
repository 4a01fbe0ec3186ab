import { type FormEvent, useEffect, useState } from 'react';
import { api, type Me } from './api';
import { messageOf } from './ui';

/** Where the identity provider sends the browser back to: the console. */
const SSO_LOGIN = '/api/auth/oidc/login?returnTo=/admin/';

/**
 * Local sign-in, plus "Sign in with SSO" when the server has single sign-on turned on
 * (`GET /api/auth/config`; a server without that endpoint simply has no SSO).
 */
export function SignIn(props: { notice: string | null; onSignedIn(user: Me, csrf: string): void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  /** The SSO button's label (the provider's name, else 'SSO'), or null without SSO. */
  const [sso, setSso] = useState<string | null>(null);
  const [localLogin, setLocalLogin] = useState(true);

  useEffect(() => {
    api.authConfig().then(
      (c) => {
        setSso(c.sso?.enabled ? c.sso.label || 'SSO' : null);
        if (c.localLogin === false) setLocalLogin(false);
      },
      // 404 (no SSO built in) or any failure: local sign-in only.
      () => setSso(null),
    );
  }, []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { user, csrfToken } = await api.signIn(email, password);
      props.onSignedIn(user, csrfToken);
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  }

  return (
    <main className="sign-in">
      <form className="sign-in-card" onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Enclave console</h1>
        {props.notice && !error && <p className="notice">{props.notice}</p>}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        {localLogin && (
          <>
            <label htmlFor="email">Email</label>
            <input
              id="email"
              type="email"
              autoComplete="username"
              required
              autoFocus
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
            <label htmlFor="password">Password</label>
            <input
              id="password"
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
            <button type="submit" className="primary" disabled={busy}>
              {busy ? 'Signing in…' : 'Sign in'}
            </button>
          </>
        )}
        {sso && (
          <a className="button sso" href={SSO_LOGIN}>
            Sign in with {sso}
          </a>
        )}
      </form>
    </main>
  );
}
