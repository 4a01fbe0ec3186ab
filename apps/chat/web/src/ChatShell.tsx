import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiFailure, type Conversation, type User } from './api';
import { ConversationView } from './ConversationView';
import { Sidebar } from './Sidebar';
import { MyUsageDialog } from './MyUsage';

const MODEL_KEY = 'enclave.model';
const CONVERSATION_PATH = /^\/c\/([0-9a-f-]{36})$/i;

function idFromLocation(): string | null {
  return CONVERSATION_PATH.exec(window.location.pathname)?.[1] ?? null;
}

export interface ListState {
  items: Conversation[];
  nextCursor: string | null;
  loading: boolean;
  error: string | null;
}

/** The signed-in page: conversations on the side, the open conversation in the middle. */
export function ChatShell(props: { user: User; onSignedOut(): void; onChangePassword(): void }) {
  const [currentId, setCurrentId] = useState<string | null>(idFromLocation);
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
  const [usageOpen, setUsageOpen] = useState(false);
  const listRequest = useRef(0);

  const navigate = useCallback((id: string | null) => {
    const path = id ? `/c/${id}` : '/';
    if (window.location.pathname !== path) window.history.pushState(null, '', path);
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
        if (!ids.length) setModelsError('No models are available to you; ask an administrator.');
      })
      .catch((err: unknown) => {
        setModels([]);
        setModelsError(
          `The models could not be loaded: ${err instanceof ApiFailure ? err.message : String(err)}`,
        );
      });
  }, []);

  const chooseModel = useCallback((m: string) => {
    setModel(m);
    localStorage.setItem(MODEL_KEY, m);
  }, []);

  const refreshList = useCallback(() => void loadList(query.trim(), null), [loadList, query]);

  async function signOut() {
    try {
      await api.signOut();
    } finally {
      props.onSignedOut();
    }
  }

  return (
    <div className={`shell${sidebarOpen ? ' sidebar-open' : ''}`}>
      <a className="skip-link" href="#prompt">
        Skip to the message box
      </a>
      <header className="topbar">
        <button
          type="button"
          className="sidebar-toggle"
          aria-expanded={sidebarOpen}
          aria-controls="sidebar"
          onClick={() => setSidebarOpen((o) => !o)}
        >
          Conversations
        </button>
        <span className="brand">Enclave</span>
        <span className="who" title={props.user.email}>
          {props.user.email}
        </span>
        <button
          type="button"
          className="quiet"
          aria-label="Change password"
          onClick={props.onChangePassword}
        >
          <span className="wide-only">Change password</span>
          <span className="narrow-only">Password</span>
        </button>
        <button type="button" className="quiet" onClick={() => setUsageOpen(true)}>
          My usage
        </button>
        <button type="button" className="quiet" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      {usageOpen && <MyUsageDialog onClose={() => setUsageOpen(false)} />}
      <Sidebar
        id="sidebar"
        list={list}
        query={query}
        onQuery={setQuery}
        onMore={() => void loadList(query.trim(), list.nextCursor)}
        activeId={currentId}
        onSelect={navigate}
        onNew={() => navigate(null)}
      />
      <ConversationView
        key={viewKey}
        initialId={currentId}
        models={models}
        modelsError={modelsError}
        model={model}
        onModelChange={chooseModel}
        onCreated={(c) => {
          // Already holding the stream: keep this view, only the address and list change.
          window.history.pushState(null, '', `/c/${c.id}`);
          setCurrentId(c.id);
          setList((l) => ({ ...l, items: [c, ...l.items.filter((i) => i.id !== c.id)] }));
        }}
        onChanged={refreshList}
        onDeleted={(id) => {
          setList((l) => ({ ...l, items: l.items.filter((i) => i.id !== id) }));
          navigate(null);
        }}
      />
    </div>
  );
}
