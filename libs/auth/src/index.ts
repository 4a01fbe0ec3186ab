export { AuthModule } from './auth.module.js';
export { ROLES, isRole, type Role } from './roles.js';
export { principalActor, type Principal } from './principal.js';
export { Roles, CurrentPrincipal, ROLES_KEY, type AuthenticatedRequest } from './decorators.js';
export { SESSION_COOKIE, CSRF_COOKIE, CSRF_HEADER } from './cookies.js';
export { ApiKeyService } from './api-key.service.js';
export { SessionService, type SignedIn } from './session.service.js';
export { UsersRepository, type User } from './users.repository.js';
export { ApiKeysRepository, type ApiKey } from './api-keys.repository.js';
export { SessionsRepository } from './sessions.repository.js';
export {
  generateApiKey,
  generatePassword,
  hashPassword,
  verifyPassword,
  parseApiKey,
} from './secrets.js';
