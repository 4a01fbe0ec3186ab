import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeyService } from './api-key.service.js';
import { ApiKeysController } from './api-keys.controller.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { AuthController } from './auth.controller.js';
import { AuthGuard } from './auth.guard.js';
import { SessionService } from './session.service.js';
import { SessionsRepository } from './sessions.repository.js';
import { UsersRepository } from './users.repository.js';
import { UsersService } from './users.service.js';

/**
 * Authentication for every app: the global guard (deny by default), sign-in routes and each
 * user's own API keys; the services the admin API builds on.
 */
@Module({
  controllers: [AuthController, ApiKeysController],
  providers: [
    UsersRepository,
    SessionsRepository,
    ApiKeysRepository,
    ApiKeyService,
    SessionService,
    UsersService,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [UsersRepository, ApiKeysRepository, ApiKeyService, SessionService, UsersService],
})
export class AuthModule {}
