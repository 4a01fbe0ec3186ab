import { Module } from '@nestjs/common';
import { ConversationsDataModule } from '@enclave/conversations';
import { LlmModule } from '@enclave/llm';
import { CompletionsModule } from '../completions/completions.module.js';
import { ResponsesController } from './responses.controller.js';
import { ResponsesService } from './responses.service.js';

/** `/v1/responses`: the Responses API on top of the chat completion pipeline. */
@Module({
  imports: [CompletionsModule, LlmModule, ConversationsDataModule],
  controllers: [ResponsesController],
  providers: [ResponsesService],
})
export class ResponsesModule {}
