import { Module } from '@nestjs/common';
import { ConversationsController } from './conversations.controller.js';
import { ConversationsRepository } from './conversations.repository.js';
import { ConversationsService } from './conversations.service.js';

/**
 * Conversations of the chat UI. The repository is exported for the completion engine, which
 * checks ownership with getForUser() and touch()es a conversation when it adds a message.
 */
@Module({
  controllers: [ConversationsController],
  providers: [ConversationsRepository, ConversationsService],
  exports: [ConversationsRepository],
})
export class ConversationsModule {}
