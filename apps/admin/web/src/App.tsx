import { Preferences, SessionGate } from '@enclave/web';
import { type ComponentType, useEffect, useRef, useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { api, client, type Me, type Role } from './api';
import { linkProps, usePath } from './router';
import { messageOf } from './ui';
import { AuditPage } from './pages/AuditPage';
import { BackendsPage } from './pages/BackendsPage';
import { ConversationsPage } from './pages/ConversationsPage';
import { DashboardPage } from './pages/DashboardPage';
import { FeedbackPage } from './pages/FeedbackPage';
import { PoliciesPage } from './pages/PoliciesPage';
import { PresetsPage } from './pages/PresetsPage';
import { QuotasPage } from './pages/QuotasPage';
import { UserPage } from './pages/UserPage';
import { UsersPage } from './pages/UsersPage';
import { GroupPage, GroupsPage } from './pages/GroupsPage';
import { ModelAccessPage } from './pages/ModelAccessPage';
import { BudgetsPage } from './pages/BudgetsPage';
import { UsagePage } from './pages/UsagePage';

export interface PageProps {
  me: Me;
  /** The path's remainder below the section (`/users/<id>` -> `<id>`). */
  param: string | null;
}

interface Section {
  path: string;
  /** Its key in the `nav` strings (a label without one is shown as it is). */
  label: string;
  roles: Role[];
  page: ComponentType<PageProps>;
  /** A page below the section (`/users/<id>`). */
  detail?: ComponentType<PageProps>;
}

/**
 * The console's sections and who sees them. The API enforces the same rules; hiding a section is
 * only so nobody is offered what the server will refuse.
 */
const SECTIONS: Section[] = [
  { path: '/', label: 'dashboard', roles: ['admin', 'auditor'], page: DashboardPage },
  { path: '/users', label: 'users', roles: ['admin'], page: UsersPage, detail: UserPage },
  { path: '/backends', label: 'backends', roles: ['admin'], page: BackendsPage },
  {
    path: '/groups',
    label: 'groups',
    roles: ['admin', 'auditor'],
    page: GroupsPage,
    detail: GroupPage,
  },
  {
    path: '/model-access',
    label: 'modelAccess',
    roles: ['admin', 'auditor'],
    page: ModelAccessPage,
  },
  { path: '/quotas', label: 'quotas', roles: ['admin'], page: QuotasPage },
  { path: '/budgets', label: 'budgets', roles: ['admin', 'auditor'], page: BudgetsPage },
  { path: '/usage', label: 'usage', roles: ['admin', 'auditor'], page: UsagePage },
  { path: '/policies', label: 'policies', roles: ['admin'], page: PoliciesPage },
  { path: '/presets', label: 'presets', roles: ['admin'], page: PresetsPage },
  {
    path: '/conversations',
    label: 'conversations',
    roles: ['admin', 'auditor'],
    page: ConversationsPage,
  },
  { path: '/feedback', label: 'feedback', roles: ['admin', 'auditor'], page: FeedbackPage },
  { path: '/audit', label: 'audit', roles: ['admin', 'auditor'], page: AuditPage },
];

/** Where the identity provider sends the browser back to: the console. */
const SSO_LOGIN = '/api/auth/oidc/login?returnTo=/admin/';

/**
 * Where this browser reaches the chat UI, another app: the server says (its own port under
 * `npm start`, `/` behind the proxy, the public URL when one is configured).
 */
function useChatUrl(): string {
  const [chatUrl, setChatUrl] = useState('/');
  useEffect(() => {
    client.auth.config().then(
      (c) => setChatUrl(c.chatUrl),
      () => undefined,
    );
  }, []);
  return chatUrl;
}

/** Signed in (the console, or the no-access page) or not (the sign-in form). */
export function App() {
  const { t } = useTranslation();
  return (
    <SessionGate
      client={client}
      signIn={{
        title: t('console'),
        ssoHref: SSO_LOGIN,
        ssoPlacement: 'last',
        describeError: messageOf,
      }}
    >
      {(me, signedOut, changePassword) => {
        const signOut = () => {
          void api
            .signOut()
            .catch(() => undefined)
            .then(() => signedOut(null));
        };
        if (me.role === 'user') return <NoAccess me={me} onSignOut={signOut} />;
        return <Console me={me} onSignOut={signOut} onChangePassword={changePassword} />;
      }}
    </SessionGate>
  );
}

function Console(props: { me: Me; onSignOut(): void; onChangePassword(): void }) {
  const { t } = useTranslation();
  const path = usePath();
  const chatUrl = useChatUrl();
  const sections = SECTIONS.filter((s) => s.roles.includes(props.me.role));
  const section =
    sections.find((s) => s.path !== '/' && (path === s.path || path.startsWith(`${s.path}/`))) ??
    (path === '/' ? sections.find((s) => s.path === '/') : undefined);
  const param =
    section && path.startsWith(`${section.path}/`) ? path.slice(section.path.length + 1) : null;
  const Page = section ? (param && section.detail ? section.detail : section.page) : null;

  useEffect(() => {
    document.title = section
      ? `${t(`nav.${section.label}`, { defaultValue: section.label })} · ${t('console')}`
      : t('console');
  }, [section, t]);

  // On a phone the account controls and the sections fold behind one Menu button (styles.css);
  // picking a section folds them again.
  const [menuOpen, setMenuOpen] = useState(false);
  // After a click in the menu, keyboard and screen-reader users continue on the new page.
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {
    setMenuOpen(false);
    if (first.current) first.current = false;
    else main.current?.focus();
  }, [path]);
  // Escape folds an open menu and gives the focus back to its button.
  const menuButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!menuOpen) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      setMenuOpen(false);
      menuButton.current?.focus();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [menuOpen]);

  return (
    <div className={menuOpen ? 'console menu-open' : 'console'}>
      <a className="skip-link" href="#main">
        {t('skip')}
      </a>
      <header className="topbar">
        <span className="brand">{t('console')}</span>
        <button
          ref={menuButton}
          type="button"
          className="quiet small menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="console-account console-sections"
          onClick={() => setMenuOpen((open) => !open)}
        >
          {t('menu')}
        </button>
        <div className="account" id="console-account">
          <Preferences />
          <span className="who">
            <span className="email">{props.me.email}</span>{' '}
            <span className={`role role-${props.me.role}`}>{props.me.role}</span>
          </span>
          <a className="button small chat-link" href={chatUrl}>
            {t('openChat')}
          </a>
          <button type="button" className="quiet small" onClick={props.onChangePassword}>
            {t('changePassword')}
          </button>
          <button type="button" className="quiet small" onClick={props.onSignOut}>
            {t('signOut')}
          </button>
        </div>
      </header>
      <nav className="sidenav" id="console-sections" aria-label={t('nav.label')}>
        <ul>
          {sections.map((s) => (
            <li key={s.path}>
              <a {...linkProps(s.path)} aria-current={section === s ? 'page' : undefined}>
                {t(`nav.${s.label}`, { defaultValue: s.label })}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="content" ref={main} tabIndex={-1}>
        {Page ? (
          <Page key={path} me={props.me} param={param} />
        ) : (
          <section className="panel">
            <h1>{t('notFound.title')}</h1>
            <p>{sections.length ? t('notFound.forRole') : t('notFound.body')}</p>
          </section>
        )}
      </main>
    </div>
  );
}

/** A signed-in `user`: the console is not for them; the API refuses it as well. */
function NoAccess(props: { me: Me; onSignOut(): void }) {
  const { t } = useTranslation();
  const chatUrl = useChatUrl();
  return (
    <main className="sign-in">
      <section className="sign-in-card" aria-labelledby="no-access-title">
        <h1 id="no-access-title">{t('noAccess.title')}</h1>
        <p>
          <Trans
            i18nKey="noAccess.who"
            values={{ email: props.me.email }}
            components={{ strong: <strong /> }}
          />
        </p>
        <p>
          <Trans
            i18nKey="noAccess.chat"
            components={{ chat: <a href={chatUrl}>Enclave chat</a> }}
          />
        </p>
        <button type="button" onClick={props.onSignOut}>
          {t('signOut')}
        </button>
      </section>
    </main>
  );
}
