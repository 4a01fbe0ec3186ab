import type { ListState } from './ChatShell';
import { SearchResults } from './features/SearchResults';

export function Sidebar(props: {
  id: string;
  list: ListState;
  query: string;
  onQuery(q: string): void;
  onMore(): void;
  activeId: string | null;
  onSelect(id: string): void;
  onNew(): void;
}) {
  return (
    <nav id={props.id} className="sidebar" aria-label="Conversations">
      <button type="button" className="primary new-chat" onClick={props.onNew}>
        New chat
      </button>
      <label htmlFor="search" className="visually-hidden">
        Search your conversations
      </label>
      <input
        id="search"
        type="search"
        placeholder="Search messages and titles"
        value={props.query}
        onChange={(e) => props.onQuery(e.target.value)}
      />
      {props.query.trim() ? (
        <SearchResults
          query={props.query.trim()}
          activeId={props.activeId}
          onSelect={props.onSelect}
        />
      ) : (
        <ConversationList {...props} />
      )}
    </nav>
  );
}

/** The user's conversations, most recently active first, a page at a time. */
function ConversationList(props: Parameters<typeof Sidebar>[0]) {
  const { list } = props;
  return (
    <>
      {list.error && (
        <p className="form-error" role="alert">
          {list.error}
        </p>
      )}
      <ul className="conversation-list" aria-busy={list.loading}>
        {list.items.map((c) => (
          <li key={c.id}>
            <button
              type="button"
              className="conversation-link"
              aria-current={c.id === props.activeId ? 'page' : undefined}
              onClick={() => props.onSelect(c.id)}
            >
              <span className="conversation-title">{c.title}</span>
              <time dateTime={c.updatedAt}>{shortDate(c.updatedAt)}</time>
            </button>
          </li>
        ))}
      </ul>
      {!list.loading && !list.items.length && !list.error && (
        <p className="empty">No conversations yet.</p>
      )}
      {list.nextCursor && (
        <button type="button" className="quiet" onClick={props.onMore} disabled={list.loading}>
          {list.loading ? 'Loading…' : 'Load more'}
        </button>
      )}
    </>
  );
}

function shortDate(iso: string): string {
  const d = new Date(iso);
  const today = new Date();
  return d.toDateString() === today.toDateString()
    ? d.toLocaleTimeString(undefined, { timeStyle: 'short' })
    : d.toLocaleDateString(undefined, { dateStyle: 'medium' });
}
