import { SessionGate } from '@enclave/web';
import { useTranslation } from 'react-i18next';
import { client, SSO_LOGIN_URL } from './api';
import { ChatShell } from './ChatShell';

/** Signed in (the chat) or not (the sign-in form); a session that ends returns to the form. */
export function App() {
  const { t } = useTranslation();
  return (
    <SessionGate
      client={client}
      signIn={{ title: t('signIn.title'), ssoHref: SSO_LOGIN_URL, ssoPlacement: 'first' }}
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
