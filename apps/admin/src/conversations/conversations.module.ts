import { Module } from '@nestjs/common';
import { AdminConversationsController } from './conversations.controller.js';
import { AdminConversationsRepository } from './conversations.repository.js';

/** Conversations for admins and auditors; opening one is audited. */
@Module({
  controllers: [AdminConversationsController],
  providers: [AdminConversationsRepository],
})
export class AdminConversationsModule {}
