import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeyService } from './api-key.service.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { AuthController } from './auth.controller.js';
import { AuthGuard } from './auth.guard.js';
import { SessionService } from './session.service.js';
import { SessionsRepository } from './sessions.repository.js';
import { UsersRepository } from './users.repository.js';

/** Authentication for every app: the global guard (deny by default) and sign-in routes. */
@Module({
  controllers: [AuthController],
  providers: [
    UsersRepository,
    SessionsRepository,
    ApiKeysRepository,
    ApiKeyService,
    SessionService,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [UsersRepository, ApiKeysRepository, ApiKeyService, SessionService],
})
export class AuthModule {}
