import { Preferences } from '@enclave/web';
import { useTranslation } from 'react-i18next';
import type { User } from './api';
import { ApiKeysSection } from './ApiKeysSection';
import { MyUsage } from './MyUsage';

/**
 * The signed-in person's own page (`/profile`): their account, password, language and colours,
 * their API keys, and their own usage.
 */
export function ProfilePage(props: { user: User; onChangePassword(): void }) {
  const { t } = useTranslation();
  return (
    <main className="profile" aria-labelledby="profile-title">
      <h1 id="profile-title">{t('profile.title')}</h1>

      <section className="profile-section" aria-labelledby="account-title">
        <h2 id="account-title">{t('profile.account')}</h2>
        <dl className="facts">
          <dt>{t('profile.email')}</dt>
          <dd>{props.user.email}</dd>
          <dt>{t('profile.role')}</dt>
          <dd>{props.user.role}</dd>
        </dl>
        <button type="button" onClick={props.onChangePassword}>
          {t('shell.changePassword')}
        </button>
      </section>

      <section className="profile-section" aria-labelledby="look-title">
        <h2 id="look-title">{t('profile.look')}</h2>
        <Preferences className="labelled" />
      </section>

      <ApiKeysSection />

      <MyUsage />
    </main>
  );
}
