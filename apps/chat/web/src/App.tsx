import { useCallback, useEffect, useState } from 'react';
import { api, ApiFailure, onSessionEnded, setCsrfToken, type User } from './api';
import { ChatShell } from './ChatShell';
import { SignIn } from './SignIn';

type Session =
  | { state: 'checking' }
  | { state: 'signed-out'; notice: string | null }
  | { state: 'signed-in'; user: User };

/** Signed in (the chat) or not (the sign-in form); a session that ends returns to the form. */
export function App() {
  const [session, setSession] = useState<Session>({ state: 'checking' });

  const signedOut = useCallback((notice: string | null) => {
    setCsrfToken(null);
    setSession({ state: 'signed-out', notice });
  }, []);

  useEffect(() => {
    onSessionEnded(() => signedOut('Your session has ended; sign in again.'));
    api
      .me()
      .then(({ user, csrfToken }) => {
        setCsrfToken(csrfToken);
        setSession({ state: 'signed-in', user });
      })
      .catch((err: unknown) => {
        const notice =
          err instanceof ApiFailure && err.status !== 401
            ? `Enclave cannot be reached: ${err.message}`
            : null;
        setSession({ state: 'signed-out', notice });
      });
    return () => onSessionEnded(null);
  }, [signedOut]);

  if (session.state === 'checking') {
    return (
      <p className="page-status" role="status">
        Loading…
      </p>
    );
  }
  if (session.state === 'signed-out') {
    return (
      <SignIn
        notice={session.notice}
        onSignedIn={(user, csrf) => {
          setCsrfToken(csrf);
          setSession({ state: 'signed-in', user });
        }}
      />
    );
  }
  return <ChatShell user={session.user} onSignedOut={() => signedOut(null)} />;
}
