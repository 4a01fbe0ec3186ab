import { type FormEvent, useEffect, useState } from 'react';
import { api, ApiFailure, type SignInOptions, SSO_LOGIN_URL, type User } from './api';

// Until the server says otherwise: the password form alone, as without single sign-on.
const PASSWORD_ONLY: SignInOptions = { localLogin: true, sso: { enabled: false, label: null } };

export function SignIn(props: {
  notice: string | null;
  onSignedIn(user: User, csrfToken: string): void;
}) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [options, setOptions] = useState<SignInOptions>(PASSWORD_ONLY);

  useEffect(() => {
    api.signInOptions().then(setOptions, () => undefined);
  }, []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { user, csrfToken } = await api.signIn(email, password);
      props.onSignedIn(user, csrfToken);
    } catch (err) {
      setError(err instanceof ApiFailure ? err.message : String(err));
      setBusy(false);
    }
  }

  return (
    <main className="sign-in">
      <form className="sign-in-card" onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to Enclave</h1>
        {props.notice && !error && <p className="notice">{props.notice}</p>}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        {options.sso.enabled && (
          <a className="sso-button" href={SSO_LOGIN_URL}>
            Sign in with {options.sso.label ?? 'SSO'}
          </a>
        )}
        {options.sso.enabled && options.localLogin && (
          <p className="sign-in-or" aria-hidden="true">
            or
          </p>
        )}
        {options.localLogin && (
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
      </form>
    </main>
  );
}
