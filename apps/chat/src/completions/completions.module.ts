import { Module } from '@nestjs/common';
import { LlmModule } from '@enclave/llm';
import { PolicyModule } from '@enclave/policy';
import { ConversationsModule } from '../conversations/conversations.module.js';
import { ConversationChatController } from './conversation-chat.controller.js';
import { ConversationChatService } from './conversation-chat.service.js';
import { ChatCompletionsService } from './chat-completions.service.js';
import { CompletionsController } from './completions.controller.js';
import { ChatInstance } from './chat-instance.js';
import { ChatInstancesRepository } from './chat-instances.repository.js';
import { CompletionRecords } from './completion-records.js';
import { MessageReconciler } from './message-reconciler.js';
import { MessagesRepository } from './messages.repository.js';

@Module({
  imports: [LlmModule, PolicyModule, ConversationsModule],
  controllers: [CompletionsController, ConversationChatController],
  providers: [
    ChatCompletionsService,
    MessagesRepository,
    ConversationChatService,
    ChatInstance,
    ChatInstancesRepository,
    CompletionRecords,
    MessageReconciler,
  ],
  exports: [ChatCompletionsService, MessagesRepository, CompletionRecords, MessageReconciler],
})
export class CompletionsModule {}
