const BASE = 'http://enclave.invalid';

/**
 * Where to send the browser after single sign-on: a path on this site ('/admin/'), never another
 * origin. Protocol-relative ('//evil'), backslash ('/\evil') and absolute URLs are refused, so the
 * sign-in cannot be turned into an open redirect. null when the value is not acceptable.
 */
export function safeReturnTo(raw: unknown): string | null {
  if (raw === undefined) return '/';
  if (typeof raw !== 'string' || raw.length > 2048) return null;
  // eslint-disable-next-line no-control-regex
  if (!raw.startsWith('/') || raw.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(raw)) {
    return null;
  }
  let url: URL;
  try {
    url = new URL(raw, BASE);
  } catch {
    return null;
  }
  if (url.origin !== BASE) return null;
  return `${url.pathname}${url.search}${url.hash}`;
}
