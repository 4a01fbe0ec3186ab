import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiError, PROBE_ROUTE, PUBLIC_ROUTE, requestMeta } from '@enclave/http';
import { AnonymousRateLimit } from './anonymous-rate-limit.js';
import { ApiKeyService } from './api-key.service.js';
import { CSRF_HEADER, SESSION_COOKIE } from './cookies.js';
import {
  type AuthenticatedRequest,
  BEFORE_PASSWORD_CHANGE_KEY,
  ROLES_KEY,
  SESSION_ONLY_KEY,
} from './decorators.js';
import type { Principal } from './principal.js';
import type { Role } from './roles.js';
import { SessionService } from './session.service.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The global guard: every route needs an API key (`Authorization: Bearer ek_…`) or a session
 * cookie, unless marked @Public(); cookie-authenticated writes also need the CSRF header; @Roles()
 * narrows who may call, @SessionOnly() refuses API keys. Every refusal is audited.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeyService,
    private readonly sessions: SessionService,
    private readonly anonymousLimit: AnonymousRateLimit,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    const req = ctx.switchToHttp().getRequest<FastifyRequest & AuthenticatedRequest>();
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) {
      if (!this.reflector.getAllAndOverride<boolean>(PROBE_ROUTE, targets))
        this.anonymousLimit.take(requestMeta(req).ip);
      return true;
    }
    // Refusals are thrown; the global error filter records them in the audit trail.
    let principal: Principal;
    try {
      principal = await this.authenticate(req);
    } catch (err) {
      // Traffic without valid credentials is limited per address (429 instead of the 401). Only
      // refused credentials count: a database outage must not turn users into anonymous traffic.
      if (err instanceof ApiError && err.getStatus() < 500)
        this.anonymousLimit.take(requestMeta(req).ip);
      throw err;
    }
    req.principal = principal;
    if (
      principal.passwordChangeRequired &&
      !this.reflector.getAllAndOverride<boolean>(BEFORE_PASSWORD_CHANGE_KEY, targets)
    ) {
      throw new ApiError(
        403,
        'password_change_required',
        'You signed in with a one-time password; choose your own first (POST /api/auth/password).',
      );
    }
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    if (roles && !roles.includes(principal.role)) {
      throw new ApiError(
        403,
        'forbidden',
        `This needs the ${roles.join(' or ')} role; you are signed in as ${principal.role}.`,
      );
    }
    if (principal.apiKey && isAdminApi(ctx)) {
      // A key limited to some models must not reach the API that mints keys and changes users;
      // writes there need the person signed in, like POST /api/keys.
      if (principal.apiKey.models !== null) {
        throw new ApiError(
          403,
          'api_key_model_limited',
          'An API key limited to some models cannot call the admin API; sign in, or use a key without a model limit for reading.',
        );
      }
      if (!SAFE_METHODS.has(req.method)) {
        throw new ApiError(
          403,
          'session_required',
          'Changes through the admin API need you signed in (a browser session); an API key can only read.',
        );
      }
    }
    if (
      principal.via !== 'session' &&
      this.reflector.getAllAndOverride<boolean>(SESSION_ONLY_KEY, targets)
    ) {
      throw new ApiError(
        403,
        'session_required',
        'This needs you signed in (a browser session); an API key cannot do it.',
      );
    }
    return true;
  }

  private async authenticate(req: FastifyRequest): Promise<Principal> {
    const authorization = req.headers.authorization;
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
      if (!SAFE_METHODS.has(req.method) && !csrfMatches(req.headers[CSRF_HEADER], principal)) {
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
}

/**
 * Whether the route belongs to the admin API, by its controller's path (`api/admin…`): decided from
 * Nest's route metadata rather than the request URL, so case or encoding of the URL cannot dodge it.
 */
function isAdminApi(ctx: ExecutionContext): boolean {
  const path: unknown = Reflect.getMetadata(PATH_METADATA, ctx.getClass());
  const paths = Array.isArray(path) ? path : [path];
  return paths.some((p) => typeof p === 'string' && /^\/?api\/admin(\/|$)/i.test(p));
}

function csrfMatches(sent: string | string[] | undefined, principal: Principal): boolean {
  const expected = principal.session?.csrfToken;
  if (typeof sent !== 'string' || !sent || !expected) return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
