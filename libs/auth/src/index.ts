export { AuthModule } from './auth.module.js';
export { ROLES, isRole, type Role } from './roles.js';
export { principalActor, type Principal } from './principal.js';
export {
  Roles,
  SessionOnly,
  CurrentPrincipal,
  ROLES_KEY,
  SESSION_ONLY_KEY,
  type AuthenticatedRequest,
} from './decorators.js';
export { SESSION_COOKIE, CSRF_COOKIE, CSRF_HEADER } from './cookies.js';
export {
  ApiKeyService,
  publicApiKey,
  type CreatedApiKey,
  type NewApiKey,
  type PublicApiKey,
} from './api-key.service.js';
export { newApiKey } from './api-keys.schema.js';
export { SessionService, type SignedIn } from './session.service.js';
export {
  UsersService,
  FIRST_ADMIN_EMAIL,
  MIN_PASSWORD_LENGTH,
  publicUser,
  type CreatedUser,
  type NewUser,
  type PublicUser,
  type UserChanges,
} from './users.service.js';
export { UsersRepository, type User } from './users.repository.js';
export { ApiKeysRepository, type ApiKey } from './api-keys.repository.js';
export { SessionsRepository } from './sessions.repository.js';
export { CredentialCache } from './credential-cache.js';
export { SignInThrottleRepository } from './sign-in-throttle.js';
export { checkPasswordStrength } from './password-strength.js';
export { parseDuration, expiryAfter } from './duration.js';
export { generateApiKey, generatePassword, hashPassword, verifyPassword } from './secrets.js';
export { SsoService } from './sso/sso.service.js';
export { SSO_BINDING_COOKIE } from './sso/sso.controller.js';
export { groupsFromClaim, roleFromClaim } from './sso/role-mapping.js';
export {
  GroupsRepository,
  type Group,
  type GroupMember,
  type MembershipVia,
} from './groups/groups.repository.js';
export { GroupsService } from './groups/groups.service.js';
export { safeReturnTo } from './sso/return-to.js';
