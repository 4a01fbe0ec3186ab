import { Preferences } from '@enclave/web';
import i18next from 'i18next';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiFailure, type Conversation, type User } from './api';
import { ConversationView } from './ConversationView';
import { forgetDrafts } from './drafts';
import { ProfilePage } from './ProfilePage';
import { Sidebar } from './Sidebar';

/** The model a new chat starts with: the person's last choice in this browser. */
const MODEL_KEY = 'enclave.model';
const CONVERSATION_PATH = /^\/c\/([0-9a-f-]{36})$/i;
export const PROFILE_PATH = '/profile';

function idFromLocation(): string | null {
  return CONVERSATION_PATH.exec(window.location.pathname)?.[1] ?? null;
}

function onProfile(): boolean {
  return window.location.pathname === PROFILE_PATH;
}

export interface ListState {
  items: Conversation[];
  nextCursor: string | null;
  loading: boolean;
  error: string | null;
}

/** The signed-in page: conversations on the side, the open conversation in the middle. */
export function ChatShell(props: { user: User; onSignedOut(): void; onChangePassword(): void }) {
  const { t } = useTranslation();
  const [currentId, setCurrentId] = useState<string | null>(idFromLocation);
  const [profile, setProfile] = useState(onProfile);
  // A new key opens a fresh view; a chat created in the view keeps it (it holds the stream).
  const [viewKey, setViewKey] = useState<string>(() => idFromLocation() ?? 'new');
  const newChats = useRef(0);
  const [query, setQuery] = useState('');
  const [list, setList] = useState<ListState>({
    items: [],
    nextCursor: null,
    loading: true,
    error: null,
  });
  const [models, setModels] = useState<string[] | null>(null);
  const [modelsError, setModelsError] = useState<string | null>(null);
  const [model, setModel] = useState<string>(() => localStorage.getItem(MODEL_KEY) ?? '');
  const [sidebarOpen, setSidebarOpen] = useState(false);
  const listRequest = useRef(0);

  const navigate = useCallback((id: string | null) => {
    const path = id ? `/c/${id}` : '/';
    if (window.location.pathname !== path) window.history.pushState(null, '', path);
    setProfile(false);
    setCurrentId(id);
    setViewKey(id ?? `new-${++newChats.current}`);
    setSidebarOpen(false);
  }, []);

  // On a phone the list opens over the page: focus goes into it, Escape closes it.
  useEffect(() => {
    if (!sidebarOpen) return;
    document.getElementById('search')?.focus();
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setSidebarOpen(false);
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [sidebarOpen]);

  useEffect(() => {
    const onPop = () => {
      const id = idFromLocation();
      setProfile(onProfile());
      setCurrentId(id);
      setViewKey(id ?? `new-${++newChats.current}`);
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  const loadList = useCallback(async (q: string, cursor: string | null) => {
    const request = ++listRequest.current;
    setList((l) => ({ ...l, loading: true, error: null }));
    try {
      const page = await api.conversations(q, cursor);
      if (request !== listRequest.current) return;
      setList((l) => ({
        items: cursor ? [...l.items, ...page.data] : page.data,
        nextCursor: page.nextCursor,
        loading: false,
        error: null,
      }));
    } catch (err) {
      if (request !== listRequest.current) return;
      const message = err instanceof ApiFailure ? err.message : String(err);
      setList((l) => ({ ...l, loading: false, error: message }));
    }
  }, []);

  // Search as the person types, once they pause.
  useEffect(() => {
    const timer = setTimeout(() => void loadList(query.trim(), null), query ? 250 : 0);
    return () => clearTimeout(timer);
  }, [query, loadList]);

  useEffect(() => {
    api
      .models()
      .then(({ data }) => {
        const ids = data.map((m) => m.id);
        setModels(ids);
        setModel((m) => (ids.includes(m) ? m : (ids[0] ?? '')));
        if (!ids.length) setModelsError(i18next.t('models.none'));
      })
      .catch((err: unknown) => {
        setModels([]);
        setModelsError(
          i18next.t('models.failed', {
            message: err instanceof ApiFailure ? err.message : String(err),
          }),
        );
      });
  }, []);

  const openProfile = useCallback(() => {
    if (!onProfile()) window.history.pushState(null, '', PROFILE_PATH);
    setProfile(true);
    setSidebarOpen(false);
  }, []);

  const chooseModel = useCallback((m: string) => {
    setModel(m);
    localStorage.setItem(MODEL_KEY, m);
  }, []);

  const refreshList = useCallback(() => void loadList(query.trim(), null), [loadList, query]);

  async function signOut() {
    forgetDrafts(props.user.id);
    // The next person to sign in here starts on a new chat, not on this one's page.
    window.history.replaceState(null, '', '/');
    try {
      await api.signOut();
    } finally {
      props.onSignedOut();
    }
  }

  return (
    <div className={`shell${sidebarOpen ? ' sidebar-open' : ''}`}>
      <a className="skip-link" href="#prompt">
        {t('shell.skip')}
      </a>
      <header className="topbar">
        <button
          type="button"
          className="sidebar-toggle"
          aria-expanded={sidebarOpen}
          aria-controls="sidebar"
          aria-label={t('sidebar.label')}
          onClick={() => setSidebarOpen((o) => !o)}
        >
          {/* Three lines, not the word: on a phone the email needs the room. */}
          <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">
            <path d="M3 6h18M3 12h18M3 18h18" stroke="currentColor" strokeWidth="2" />
          </svg>
        </button>
        <span className="brand">Enclave</span>
        <Preferences />
        {/* The account: who is signed in, and the way to their profile (password, keys). */}
        <a
          className="who"
          href={PROFILE_PATH}
          title={t('shell.profileOf', { email: props.user.email })}
          aria-current={profile ? 'page' : undefined}
          onClick={(e) => {
            e.preventDefault();
            openProfile();
          }}
        >
          {props.user.email}
        </a>
        <button type="button" className="quiet" onClick={() => void signOut()}>
          {t('shell.signOut')}
        </button>
      </header>
      <Sidebar
        id="sidebar"
        list={list}
        query={query}
        onQuery={setQuery}
        onMore={() => void loadList(query.trim(), list.nextCursor)}
        activeId={profile ? null : currentId}
        onSelect={navigate}
        onNew={() => navigate(null)}
      />
      {profile ? (
        <ProfilePage user={props.user} onChangePassword={props.onChangePassword} />
      ) : (
        <ConversationView
          key={viewKey}
          userId={props.user.id}
          initialId={currentId}
          models={models}
          modelsError={modelsError}
          defaultModel={model}
          onModelChange={chooseModel}
          onCreated={(c) => {
            // Already holding the stream: keep this view, only the address and list change.
            window.history.pushState(null, '', `/c/${c.id}`);
            setCurrentId(c.id);
            setList((l) => ({ ...l, items: [c, ...l.items.filter((i) => i.id !== c.id)] }));
          }}
          onChanged={refreshList}
          onDiscarded={(id) => {
            window.history.replaceState(null, '', '/');
            setCurrentId(null);
            setList((l) => ({ ...l, items: l.items.filter((i) => i.id !== id) }));
          }}
          onDeleted={(id) => {
            setList((l) => ({ ...l, items: l.items.filter((i) => i.id !== id) }));
            navigate(null);
          }}
        />
      )}
    </div>
  );
}
