import type { CookieOptions, Request, Response } from 'express';

export const SESSION_COOKIE = 'enclave_session';
export const CSRF_COOKIE = 'enclave_csrf';
export const CSRF_HEADER = 'x-csrf-token';

function base(req: Request, expires?: Date): CookieOptions {
  // Secure whenever the request came over TLS (directly or via nginx with X-Forwarded-Proto).
  return { sameSite: 'strict', secure: req.secure, path: '/', ...(expires ? { expires } : {}) };
}

export function setSessionCookies(
  req: Request,
  res: Response,
  s: { token: string; csrfToken: string; expiresAt: Date },
): void {
  res.cookie(SESSION_COOKIE, s.token, { ...base(req, s.expiresAt), httpOnly: true });
  // Readable by the page's script, which echoes it in the x-csrf-token header (double submit).
  res.cookie(CSRF_COOKIE, s.csrfToken, { ...base(req, s.expiresAt), httpOnly: false });
}

export function clearSessionCookies(req: Request, res: Response): void {
  res.clearCookie(SESSION_COOKIE, { ...base(req), httpOnly: true });
  res.clearCookie(CSRF_COOKIE, base(req));
}
