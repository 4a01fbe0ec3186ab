import { type ComponentType, useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiFailure, type Me, onSessionEnded, type Role, setCsrfToken } from './api';
import { linkProps, usePath } from './router';
import { SignIn } from './SignIn';
import { AuditPage } from './pages/AuditPage';
import { BackendsPage } from './pages/BackendsPage';
import { ConversationsPage } from './pages/ConversationsPage';
import { DashboardPage } from './pages/DashboardPage';
import { FeedbackPage } from './pages/FeedbackPage';
import { PoliciesPage } from './pages/PoliciesPage';
import { QuotasPage } from './pages/QuotasPage';
import { UserPage } from './pages/UserPage';
import { UsersPage } from './pages/UsersPage';

type Session =
  | { state: 'checking' }
  | { state: 'signed-out'; notice: string | null }
  | { state: 'signed-in'; user: Me };

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
  { path: '/quotas', label: 'Quotas & limits', roles: ['admin'], page: QuotasPage },
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

/** Signed in (the console, or the no-access page) or not (the sign-in form). */
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
  const signOut = () => {
    void api
      .signOut()
      .catch(() => undefined)
      .then(() => signedOut(null));
  };
  if (session.user.role === 'user') return <NoAccess me={session.user} onSignOut={signOut} />;
  return <Console me={session.user} onSignOut={signOut} />;
}

function Console(props: { me: Me; onSignOut(): void }) {
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
