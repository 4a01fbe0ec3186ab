import { useEffect, useState } from 'react';

/** The console lives below this path (Vite's `base`; the admin app serves it there). */
export const BASE = '/admin';

const listeners = new Set<() => void>();

/** The console path of the current page (`/users/…`), without BASE. */
function currentPath(): string {
  const path = window.location.pathname;
  return path.startsWith(BASE) ? path.slice(BASE.length) || '/' : '/';
}

/** Opens a console page without reloading (history entry included). */
export function navigate(path: string): void {
  window.history.pushState(null, '', `${BASE}${path}`);
  for (const l of listeners) l();
}

/** The current console path; re-renders on navigation and Back/Forward. */
export function usePath(): string {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const update = () => setPath(currentPath());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return path;
}

/** A link to a console page: a real href (new tab works), client-side on a plain click. */
export function linkProps(path: string) {
  return {
    href: `${BASE}${path}`,
    onClick(e: React.MouseEvent) {
      if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      e.preventDefault();
      navigate(path);
    },
  };
}
