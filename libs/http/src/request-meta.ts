import type { FastifyRequest } from 'fastify';

/** Who sent a request and from where, as audit events and logs record it. */
export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export function requestMeta(req: FastifyRequest): RequestMeta {
  return {
    ip: req.ip ?? null,
    userAgent: req.headers['user-agent']?.slice(0, 512) ?? null,
    requestId: req.id ?? null,
  };
}
