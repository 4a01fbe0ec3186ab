import { Module } from '@nestjs/common';
import { ChatInstancesRepository } from './chat-instances.repository.js';
import { ConversationsRepository } from './conversations.repository.js';
import { FeedbackRepository } from './feedback.repository.js';
import { MessagesRepository } from './messages.repository.js';
import { ResponsesRepository } from './responses.repository.js';

/** The repositories of the chat data, for the apps' feature modules to import. */
@Module({
  providers: [
    ConversationsRepository,
    MessagesRepository,
    FeedbackRepository,
    ChatInstancesRepository,
    ResponsesRepository,
  ],
  exports: [
    ConversationsRepository,
    MessagesRepository,
    FeedbackRepository,
    ChatInstancesRepository,
    ResponsesRepository,
  ],
})
export class ConversationsDataModule {}
