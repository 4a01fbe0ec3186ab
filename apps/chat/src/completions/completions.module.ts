import { Module } from '@nestjs/common';
import { LlmModule } from '@enclave/llm';
import { ChatCompletionsService } from './chat-completions.service.js';
import { CompletionsController } from './completions.controller.js';
import { MessagesRepository } from './messages.repository.js';

@Module({
  imports: [LlmModule],
  controllers: [CompletionsController],
  providers: [ChatCompletionsService, MessagesRepository],
  exports: [ChatCompletionsService, MessagesRepository],
})
export class CompletionsModule {}
