import { type Formatters, useFormat } from '@enclave/web';
import { useTranslation } from 'react-i18next';
import type { ListState } from './ChatShell';

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
  const { list } = props;
  const { t } = useTranslation();
  const format = useFormat();
  return (
    <nav id={props.id} className="sidebar" aria-label={t('sidebar.label')}>
      <button type="button" className="primary new-chat" onClick={props.onNew}>
        {t('newChat')}
      </button>
      <label htmlFor="search" className="visually-hidden">
        {t('sidebar.searchLabel')}
      </label>
      <input
        id="search"
        type="search"
        placeholder={t('sidebar.searchPlaceholder')}
        value={props.query}
        onChange={(e) => props.onQuery(e.target.value)}
      />
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
              <time dateTime={c.updatedAt}>{shortDate(c.updatedAt, format)}</time>
            </button>
          </li>
        ))}
      </ul>
      {!list.loading && !list.items.length && !list.error && (
        <p className="empty">{props.query ? t('sidebar.noMatch') : t('sidebar.none')}</p>
      )}
      {list.nextCursor && (
        <button type="button" className="quiet" onClick={props.onMore} disabled={list.loading}>
          {list.loading ? t('loading') : t('sidebar.more')}
        </button>
      )}
    </nav>
  );
}

/** Today's conversations by time, older ones by date, in the chosen language. */
function shortDate(iso: string, format: Formatters): string {
  return new Date(iso).toDateString() === new Date().toDateString()
    ? format.time(iso)
    : format.date(iso);
}
