import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'enclave_session';
export const CSRF_COOKIE = 'enclave_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** Whether the request came over TLS (directly, or via nginx on loopback with X-Forwarded-Proto). */
export function overTls(req: FastifyRequest): boolean {
  return req.protocol === 'https';
}

function base(req: FastifyRequest, expires?: Date): CookieSerializeOptions {
  // Secure whenever the request came over TLS.
  return { sameSite: 'strict', secure: overTls(req), path: '/', ...(expires ? { expires } : {}) };
}

export function setSessionCookies(
  req: FastifyRequest,
  reply: FastifyReply,
  s: { token: string; csrfToken: string; expiresAt: Date },
): void {
  reply.setCookie(SESSION_COOKIE, s.token, { ...base(req, s.expiresAt), httpOnly: true });
  // Readable by the page's script, which echoes it in the x-csrf-token header (double submit).
  reply.setCookie(CSRF_COOKIE, s.csrfToken, { ...base(req, s.expiresAt), httpOnly: false });
}

export function clearSessionCookies(req: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { ...base(req), httpOnly: true });
  reply.clearCookie(CSRF_COOKIE, base(req));
}
