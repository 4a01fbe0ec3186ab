import { useEffect, useState } from 'react';
import { api, ApiFailure, type SearchHit } from '../api';
import { Highlight } from './Highlight';
import { useTranslation } from 'react-i18next';

/**
 * What the sidebar shows while the search box holds text: the conversations whose messages or
 * title contain the words (full-text search on the server), best first, matches marked.
 */
export function SearchResults(props: {
  query: string;
  activeId: string | null;
  onSelect(id: string): void;
}) {
  const { t } = useTranslation();
  const [hits, setHits] = useState<SearchHit[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  // Search as the person types, once they pause; a newer search wins over a slower older one.
  useEffect(() => {
    let current = true;
    const timer = setTimeout(() => {
      api
        .search(props.query)
        .then((r) => current && (setHits(r.data), setError(null)))
        .catch(
          (err: unknown) =>
            current && setError(err instanceof ApiFailure ? err.message : String(err)),
        );
    }, 250);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [props.query]);

  if (error) {
    return (
      <p className="form-error" role="alert">
        {error}
      </p>
    );
  }
  return (
    <>
      <ul
        className="conversation-list search-results"
        aria-busy={hits === null}
        aria-label={t('features.search.results')}
      >
        {hits?.map((h) => (
          <li key={h.conversationId}>
            <button
              type="button"
              className="conversation-link"
              aria-current={h.conversationId === props.activeId ? 'page' : undefined}
              onClick={() => props.onSelect(h.conversationId)}
            >
              <span className="conversation-title">
                <Highlight pieces={h.title} />
              </span>
              {h.message && (
                <span className="search-snippet">
                  <Highlight pieces={h.message.snippet} />
                </span>
              )}
            </button>
          </li>
        ))}
      </ul>
      {hits?.length === 0 && <p className="empty">{t('sidebar.noMatch')}</p>}
    </>
  );
}
