import { Module } from '@nestjs/common';
import { AuthModule } from '@enclave/auth';
import { AdminUsersController } from './users.controller.js';

/** The admin API for users and their API keys; the logic lives in libs/auth's services. */
@Module({
  imports: [AuthModule],
  controllers: [AdminUsersController],
})
export class AdminUsersModule {}
