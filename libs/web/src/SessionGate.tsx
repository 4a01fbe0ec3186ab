import i18next from 'i18next';
import { type ReactNode, useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type ApiClient, ApiFailure, type AuthApi } from './api-client';
import { ChangePassword } from './ChangePassword';
import { SignIn, type SignInProps } from './SignIn';

type Session<U> =
  | { state: 'checking' }
  | { state: 'signed-out'; notice: string | null }
  /** `password`: 'required' after a one-time password, 'asked' when the user chose to. */
  | { state: 'signed-in'; user: U; password: 'required' | 'asked' | null };

/** What the sign-in form says and where its SSO link goes (see SignIn). */
export type SignInText = Pick<
  SignInProps<unknown>,
  'title' | 'ssoHref' | 'ssoPlacement' | 'describeError'
>;

/**
 * Signed in (the app, from `children`) or not (the sign-in form). The session is asked for once
 * (`GET /api/auth/me`); one that ends later (any 401) returns to the form with a notice. A user
 * who signed in with a one-time password sees the change-password form first; `changePassword()`
 * lets the app open it on request.
 */
export function SessionGate<U>(props: {
  client: ApiClient<U>;
  signIn: SignInText;
  /** The app for a signed-in user; `signedOut(notice)` returns to the form. */
  children(
    user: U,
    signedOut: (notice: string | null) => void,
    changePassword: () => void,
  ): ReactNode;
}) {
  const { client } = props;
  const { t } = useTranslation('web');
  const [session, setSession] = useState<Session<U>>({ state: 'checking' });

  const signedOut = useCallback(
    (notice: string | null) => {
      client.setCsrfToken(null);
      setSession({ state: 'signed-out', notice });
    },
    [client],
  );

  useEffect(() => {
    client.onSessionEnded(() => signedOut(i18next.t('web:session.ended')));
    client.auth
      .me()
      .then(({ user, csrfToken, passwordChangeRequired }) => {
        client.setCsrfToken(csrfToken);
        setSession({
          state: 'signed-in',
          user,
          password: passwordChangeRequired ? 'required' : null,
        });
      })
      .catch((err: unknown) => {
        const notice =
          err instanceof ApiFailure && err.status !== 401
            ? i18next.t('web:session.unreachable', { message: err.message })
            : null;
        setSession({ state: 'signed-out', notice });
      });
    return () => client.onSessionEnded(null);
  }, [client, signedOut]);

  if (session.state === 'checking') {
    return (
      <p className="page-status" role="status">
        {t('loading')}
      </p>
    );
  }
  if (session.state === 'signed-out') {
    return (
      <SignIn
        {...props.signIn}
        auth={client.auth}
        notice={session.notice}
        onSignedIn={(user, csrf, passwordChangeRequired) => {
          client.setCsrfToken(csrf);
          setSession({
            state: 'signed-in',
            user,
            password: passwordChangeRequired ? 'required' : null,
          });
        }}
      />
    );
  }
  const { user } = session;
  if (session.password) {
    const required = session.password === 'required';
    return (
      <ChangePassword
        auth={client.auth as AuthApi<unknown>}
        required={required}
        onChanged={() => setSession({ state: 'signed-in', user, password: null })}
        onCancel={() => {
          if (!required) return setSession({ state: 'signed-in', user, password: null });
          void client.auth.signOut().finally(() => signedOut(null));
        }}
      />
    );
  }
  return props.children(user, signedOut, () =>
    setSession({ state: 'signed-in', user, password: 'asked' }),
  );
}
