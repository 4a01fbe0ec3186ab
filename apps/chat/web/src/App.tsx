import { SessionGate } from '@enclave/web';
import { client, SSO_LOGIN_URL } from './api';
import { ChatShell } from './ChatShell';

/** Signed in (the chat) or not (the sign-in form); a session that ends returns to the form. */
export function App() {
  return (
    <SessionGate
      client={client}
      signIn={{ title: 'Sign in to Enclave', ssoHref: SSO_LOGIN_URL, ssoPlacement: 'first' }}
    >
      {(user, signedOut, changePassword) => (
        <ChatShell
          user={user}
          onSignedOut={() => signedOut(null)}
          onChangePassword={changePassword}
        />
      )}
    </SessionGate>
  );
}
