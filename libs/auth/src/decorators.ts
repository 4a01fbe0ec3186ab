import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Principal } from './principal.js';
import type { Role } from './roles.js';

export const ROLES_KEY = 'enclave:roles';

/** Only these roles may call the route (any signed-in role when absent). */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator =>
  SetMetadata(ROLES_KEY, roles);

export const SESSION_ONLY_KEY = 'enclave:session-only';

/**
 * Only a signed-in session may call the route, not an API key (403 `session_required`): e.g.
 * creating keys, so that a key limited to some models cannot mint an unlimited one.
 */
export const SessionOnly = (): MethodDecorator & ClassDecorator =>
  SetMetadata(SESSION_ONLY_KEY, true);

export const BEFORE_PASSWORD_CHANGE_KEY = 'enclave:before-password-change';

/**
 * The route stays open to a session whose one-time password is not changed yet (who am I,
 * change my password); every other route answers 403 `password_change_required` until then.
 */
export const AllowedBeforePasswordChange = (): MethodDecorator & ClassDecorator =>
  SetMetadata(BEFORE_PASSWORD_CHANGE_KEY, true);

export interface AuthenticatedRequest {
  principal?: Principal;
}

/** The authenticated caller; the guard has run, so it is always set on non-public routes. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext) => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a public route');
  return principal;
});
