import { type CanActivate, type ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { AuditLog } from '@enclave/audit';
import { ApiError, PUBLIC_ROUTE, requestMeta } from '@enclave/http';
import { DataSource } from 'typeorm';
import { ApiKeyService } from './api-key.service.js';
import { CSRF_HEADER, SESSION_COOKIE } from './cookies.js';
import { type AuthenticatedRequest, ROLES_KEY } from './decorators.js';
import { type Principal, principalActor } from './principal.js';
import type { Role } from './roles.js';
import { SessionService } from './session.service.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The global guard: every route needs an API key (`Authorization: Bearer ek_…`) or a session
 * cookie, unless marked @Public(); cookie-authenticated writes also need the CSRF header; @Roles()
 * narrows who may call. Every refusal is audited.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly log = new Logger('Auth');

  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeyService,
    private readonly sessions: SessionService,
    private readonly audit: AuditLog,
    private readonly dataSource: DataSource,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const req = ctx.switchToHttp().getRequest<Request & AuthenticatedRequest>();
    let principal: Principal | null = null;
    try {
      principal = await this.authenticate(req);
      const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
      if (roles && !roles.includes(principal.role)) {
        throw new ApiError(
          403,
          'forbidden',
          `This needs the ${roles.join(' or ')} role; you are signed in as ${principal.role}.`,
        );
      }
      req.principal = principal;
      return true;
    } catch (err) {
      if (err instanceof ApiError) await this.auditRefusal(req, err, principal);
      throw err;
    }
  }

  private async authenticate(req: Request): Promise<Principal> {
    const authorization = req.get('authorization');
    if (authorization !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!m) {
        throw new ApiError(
          401,
          'invalid_authorization',
          "The Authorization header must be 'Bearer <API key>'.",
        );
      }
      return this.apiKeys.authenticate(m[1]!);
    }
    const token: unknown = req.cookies?.[SESSION_COOKIE];
    if (typeof token === 'string' && token) {
      const principal = await this.sessions.resolve(token);
      if (!principal) {
        throw new ApiError(401, 'session_expired', 'Your session has ended; sign in again.');
      }
      if (!SAFE_METHODS.has(req.method) && !csrfMatches(req.get(CSRF_HEADER), principal)) {
        throw new ApiError(
          403,
          'csrf_failed',
          `A signed-in write needs the ${CSRF_HEADER} header with the session's CSRF token.`,
        );
      }
      return principal;
    }
    throw new ApiError(
      401,
      'missing_credentials',
      "Send an API key as 'Authorization: Bearer ek_…', or sign in.",
    );
  }

  private async auditRefusal(req: Request, err: ApiError, principal: Principal | null) {
    const bearer = /^Bearer\s+(ek_[0-9a-f]{8})/i.exec(req.get('authorization') ?? '');
    try {
      await this.audit.append(this.dataSource.manager, {
        actor: principal ? principalActor(principal) : { type: 'anonymous' },
        action: 'auth.request.denied',
        target: { type: 'route', id: `${req.method} ${req.path}` },
        outcome: 'denied',
        meta: requestMeta(req),
        payload: { status: err.getStatus(), code: err.code, keyPrefix: bearer?.[1] ?? null },
      });
    } catch (auditErr) {
      this.log.error({ err: auditErr }, 'could not audit a refused request');
    }
  }
}

function csrfMatches(sent: string | undefined, principal: Principal): boolean {
  const expected = principal.session?.csrfToken;
  if (!sent || !expected) return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
