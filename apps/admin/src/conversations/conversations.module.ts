import { Module } from '@nestjs/common';
import { AdminConversationsController } from './conversations.controller.js';
import { AuthModule } from '@enclave/auth';
import { ConversationsDataModule } from '@enclave/conversations';
import { AdminConversationsService } from './conversations.service.js';

/** Conversations for admins and auditors; opening one is audited. */
@Module({
  imports: [AuthModule, ConversationsDataModule],
  controllers: [AdminConversationsController],
  providers: [AdminConversationsService],
})
export class AdminConversationsModule {}
