import { Preferences } from '@enclave/web';
import { useTranslation } from 'react-i18next';
import type { User } from './api';
import { ApiKeysSection } from './ApiKeysSection';

/**
 * The signed-in person's own page (`/profile`): their account, password, language and colours,
 * and their API keys.
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

      {/* ── MY USAGE ──────────────────────────────────────────────────────────────────────────
          Reserved for <MyUsage /> (MyUsage.tsx, built by another engineer for issue 21): the
          person's own tokens and cost. Render it here as its own <section className="profile-section">. */}
    </main>
  );
}
