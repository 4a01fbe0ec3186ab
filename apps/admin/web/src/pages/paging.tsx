import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { messageOf } from '../ui';

/**
 * A list read page by page (`nextBefore`/`nextCursor` from the API): the first page whenever deps
 * change, the next on loadMore. An answer to an outdated query is dropped.
 */
export function usePaged<T>(
  load: (
    cursor: string | null,
  ) => Promise<{ data: T[]; nextBefore?: string | null; nextCursor?: string | null }>,
  deps: unknown[],
) {
  const [items, setItems] = useState<T[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const fetchPage = useCallback(async (cursor: string | null) => {
    const mine = ++generation.current;
    setLoading(true);
    try {
      const page = await loadRef.current(cursor);
      if (mine !== generation.current) return;
      setItems((prev) => (cursor ? [...prev, ...page.data] : page.data));
      setNext(page.nextBefore ?? page.nextCursor ?? null);
      setError(null);
    } catch (err) {
      if (mine === generation.current) setError(messageOf(err));
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, []);

  useEffect(() => {
    void fetchPage(null);
  }, [fetchPage, ...deps]);

  return {
    items,
    error,
    loading,
    /** Read, and nothing matched. */
    empty: items.length === 0 && !loading,
    more: next !== null,
    loadMore: () => void fetchPage(next),
    reload: () => fetchPage(null),
  };
}

/** The button that reads the next page, while there is one. */
export function LoadMore(props: { list: { more: boolean; loadMore(): void } }) {
  const { t } = useTranslation();
  if (!props.list.more) return null;
  return (
    <button type="button" onClick={props.list.loadMore}>
      {t('loadMore')}
    </button>
  );
}
