import { type FormEvent, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Preferences } from './Preferences';
import { ApiFailure, type AuthApi } from './api-client';

export interface SignInProps<U> {
  auth: AuthApi<U>;
  /** The card's heading. */
  title: string;
  /** Where "Sign in with …" goes; it names where the provider sends the browser back to. */
  ssoHref: string;
  /**
   * Where the SSO link stands: 'first', the main way in, above the password form with "or"
   * between them (the chat UI); 'last', a second way in, below the form (the console).
   */
  ssoPlacement: 'first' | 'last';
  /** The line shown when signing in fails; by default the API's message. */
  describeError?: (err: unknown) => string;
  notice: string | null;
  onSignedIn(user: U, csrfToken: string, passwordChangeRequired: boolean): void;
}

function apiMessage(err: unknown): string {
  return err instanceof ApiFailure ? err.message : String(err);
}

/**
 * Email and password, plus "Sign in with …" when the server has single sign-on turned on
 * (`GET /api/auth/config`; a server without that endpoint, or any failure, means the password
 * form alone).
 */
export function SignIn<U>(props: SignInProps<U>) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  /** The SSO link's label (the provider's name, else 'SSO'), or null without SSO. */
  const [sso, setSso] = useState<string | null>(null);
  const [localLogin, setLocalLogin] = useState(true);
  const { auth } = props;
  const { t } = useTranslation('web');

  useEffect(() => {
    auth.config().then(
      (c) => {
        setSso(c.sso?.enabled ? c.sso.label || 'SSO' : null);
        setLocalLogin(c.localLogin !== false);
      },
      () => undefined,
    );
  }, [auth]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { user, csrfToken, passwordChangeRequired } = await auth.signIn(email, password);
      props.onSignedIn(user, csrfToken, passwordChangeRequired === true);
    } catch (err) {
      setError((props.describeError ?? apiMessage)(err));
      setBusy(false);
    }
  }

  const first = props.ssoPlacement === 'first';
  return (
    <main className="sign-in">
      <form className="sign-in-card" onSubmit={submit} aria-labelledby="sign-in-title">
        <Preferences className="sign-in-preferences" />
        <h1 id="sign-in-title">{props.title}</h1>
        {props.notice && !error && <p className="notice">{props.notice}</p>}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        {first && sso && (
          <a className="sso-button" href={props.ssoHref}>
            {t('signIn.withSso', { provider: sso })}
          </a>
        )}
        {first && sso && localLogin && (
          <p className="sign-in-or" aria-hidden="true">
            {t('signIn.or')}
          </p>
        )}
        {localLogin && (
          <>
            <label htmlFor="email">{t('signIn.email')}</label>
            <input
              id="email"
              type="email"
              autoComplete="username"
              required
              autoFocus
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
            <label htmlFor="password">{t('signIn.password')}</label>
            <input
              id="password"
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
            <button type="submit" className="primary" disabled={busy}>
              {busy ? t('signIn.busy') : t('signIn.submit')}
            </button>
          </>
        )}
        {!first && sso && (
          <a className="button sso" href={props.ssoHref}>
            {t('signIn.withSso', { provider: sso })}
          </a>
        )}
      </form>
    </main>
  );
}
