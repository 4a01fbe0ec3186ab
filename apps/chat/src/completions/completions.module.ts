import { Module } from '@nestjs/common';
import { AuthModule } from '@enclave/auth';
import { ConversationsDataModule } from '@enclave/conversations';
import { LlmModule } from '@enclave/llm';
import { PolicyModule } from '@enclave/policy';
import { ConversationChatController } from './conversation-chat.controller.js';
import { ConversationChatService } from './conversation-chat.service.js';
import { ChatCompletionsService } from './chat-completions.service.js';
import { CompletionsController } from './completions.controller.js';
import { ChatInstance } from './chat-instance.js';
import { CompletionRecords } from './completion-records.js';
import { MessageReconciler } from './message-reconciler.js';

@Module({
  imports: [AuthModule, LlmModule, PolicyModule, ConversationsDataModule],
  controllers: [CompletionsController, ConversationChatController],
  providers: [
    ChatCompletionsService,
    ConversationChatService,
    ChatInstance,
    CompletionRecords,
    MessageReconciler,
  ],
  exports: [ChatCompletionsService, CompletionRecords, MessageReconciler],
})
export class CompletionsModule {}
