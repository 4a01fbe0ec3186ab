import { SessionGate } from '@enclave/web';
import { type ComponentType, useEffect, useRef } from 'react';
import { api, client, type Me, type Role } from './api';
import { linkProps, usePath } from './router';
import { messageOf } from './ui';
import { AuditPage } from './pages/AuditPage';
import { BackendsPage } from './pages/BackendsPage';
import { ConversationsPage } from './pages/ConversationsPage';
import { DashboardPage } from './pages/DashboardPage';
import { FeedbackPage } from './pages/FeedbackPage';
import { PoliciesPage } from './pages/PoliciesPage';
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
  { path: '/', label: 'Dashboard', roles: ['admin', 'auditor'], page: DashboardPage },
  { path: '/users', label: 'Users & keys', roles: ['admin'], page: UsersPage, detail: UserPage },
  { path: '/backends', label: 'Backends & models', roles: ['admin'], page: BackendsPage },
  {
    path: '/groups',
    label: 'Groups',
    roles: ['admin', 'auditor'],
    page: GroupsPage,
    detail: GroupPage,
  },
  {
    path: '/model-access',
    label: 'Model access & prices',
    roles: ['admin', 'auditor'],
    page: ModelAccessPage,
  },
  { path: '/quotas', label: 'Quotas & limits', roles: ['admin'], page: QuotasPage },
  { path: '/budgets', label: 'Budgets', roles: ['admin', 'auditor'], page: BudgetsPage },
  { path: '/usage', label: 'Usage & cost', roles: ['admin', 'auditor'], page: UsagePage },
  { path: '/policies', label: 'Policies', roles: ['admin'], page: PoliciesPage },
  {
    path: '/conversations',
    label: 'Conversations',
    roles: ['admin', 'auditor'],
    page: ConversationsPage,
  },
  { path: '/feedback', label: 'Feedback', roles: ['admin', 'auditor'], page: FeedbackPage },
  { path: '/audit', label: 'Audit', roles: ['admin', 'auditor'], page: AuditPage },
];

/** Where the identity provider sends the browser back to: the console. */
const SSO_LOGIN = '/api/auth/oidc/login?returnTo=/admin/';

/** Signed in (the console, or the no-access page) or not (the sign-in form). */
export function App() {
  return (
    <SessionGate
      client={client}
      signIn={{
        title: 'Enclave console',
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
  const path = usePath();
  const sections = SECTIONS.filter((s) => s.roles.includes(props.me.role));
  const section =
    sections.find((s) => s.path !== '/' && (path === s.path || path.startsWith(`${s.path}/`))) ??
    (path === '/' ? sections.find((s) => s.path === '/') : undefined);
  const param =
    section && path.startsWith(`${section.path}/`) ? path.slice(section.path.length + 1) : null;
  const Page = section ? (param && section.detail ? section.detail : section.page) : null;

  useEffect(() => {
    document.title = section ? `${section.label} · Enclave console` : 'Enclave console';
  }, [section]);

  // After a click in the menu, keyboard and screen-reader users continue on the new page.
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) first.current = false;
    else main.current?.focus();
  }, [path]);

  return (
    <div className="console">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Enclave console</span>
        <span className="who">
          {props.me.email} <span className={`role role-${props.me.role}`}>{props.me.role}</span>
        </span>
        <button type="button" className="quiet small" onClick={props.onChangePassword}>
          Change password
        </button>
        <button type="button" className="quiet small" onClick={props.onSignOut}>
          Sign out
        </button>
      </header>
      <nav className="sidenav" aria-label="Console">
        <ul>
          {sections.map((s) => (
            <li key={s.path}>
              <a {...linkProps(s.path)} aria-current={section === s ? 'page' : undefined}>
                {s.label}
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
            <h1>Page not found</h1>
            <p>
              There is no such page{sections.length ? ' for your role' : ''}. Pick one from the
              menu.
            </p>
          </section>
        )}
      </main>
    </div>
  );
}

/** A signed-in `user`: the console is not for them; the API refuses it as well. */
function NoAccess(props: { me: Me; onSignOut(): void }) {
  return (
    <main className="sign-in">
      <section className="sign-in-card" aria-labelledby="no-access-title">
        <h1 id="no-access-title">No console access</h1>
        <p>
          You are signed in as <strong>{props.me.email}</strong>, and your account has the role{' '}
          <strong>user</strong>. The console is for administrators and auditors.
        </p>
        <p>
          To chat, open <a href="/">Enclave chat</a>. If you need the console, ask an administrator
          to change your role.
        </p>
        <button type="button" onClick={props.onSignOut}>
          Sign out
        </button>
      </section>
    </main>
  );
}
