import { Module } from '@nestjs/common';
import { ChatInstancesRepository } from './chat-instances.repository.js';
import { ConversationsRepository } from './conversations.repository.js';
import { FeedbackRepository } from './feedback.repository.js';
import { MessageSearchRepository } from './message-search.repository.js';
import { MessagesRepository } from './messages.repository.js';
import { PresetsRepository } from './presets.repository.js';
import { PromptTemplatesRepository } from './prompt-templates.repository.js';
import { ResponsesRepository } from './responses.repository.js';

/** The repositories of the chat data, for the apps' feature modules to import. */
@Module({
  providers: [
    ConversationsRepository,
    MessagesRepository,
    FeedbackRepository,
    ChatInstancesRepository,
    MessageSearchRepository,
    PresetsRepository,
    PromptTemplatesRepository,
    ResponsesRepository,
  ],
  exports: [
    ConversationsRepository,
    MessagesRepository,
    FeedbackRepository,
    ChatInstancesRepository,
    MessageSearchRepository,
    PresetsRepository,
    PromptTemplatesRepository,
    ResponsesRepository,
  ],
})
export class ConversationsDataModule {}
