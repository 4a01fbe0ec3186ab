import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AnonymousRateLimit } from './anonymous-rate-limit.js';
import { ApiKeyService } from './api-key.service.js';
import { ApiKeysController } from './api-keys.controller.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { AuthController } from './auth.controller.js';
import { AuthGuard } from './auth.guard.js';
import { CredentialCache } from './credential-cache.js';
import { SessionService } from './session.service.js';
import { SessionsRepository } from './sessions.repository.js';
import { SignInThrottleRepository } from './sign-in-throttle.js';
import { UsersRepository } from './users.repository.js';
import { UsersService } from './users.service.js';
import { OidcClient } from './sso/oidc-client.js';
import { OidcLoginsRepository } from './sso/oidc-logins.repository.js';
import { SsoController } from './sso/sso.controller.js';
import { SsoService } from './sso/sso.service.js';
import { GroupsRepository } from './groups/groups.repository.js';
import { GroupsService } from './groups/groups.service.js';

/**
 * Authentication for every app: the global guard (deny by default), sign-in routes (password
 * and single sign-on) and each user's own API keys; the services the admin API builds on.
 */
@Module({
  controllers: [AuthController, SsoController, ApiKeysController],
  providers: [
    UsersRepository,
    SessionsRepository,
    SignInThrottleRepository,
    AnonymousRateLimit,
    ApiKeysRepository,
    CredentialCache,
    ApiKeyService,
    SessionService,
    UsersService,
    OidcClient,
    OidcLoginsRepository,
    SsoService,
    GroupsRepository,
    GroupsService,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [
    UsersRepository,
    ApiKeysRepository,
    CredentialCache,
    ApiKeyService,
    SessionService,
    UsersService,
    GroupsRepository,
    GroupsService,
  ],
})
export class AuthModule {}
