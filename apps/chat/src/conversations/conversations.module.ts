import { Module } from '@nestjs/common';
import { ConversationsController } from './conversations.controller.js';
import { ConversationsDataModule } from '@enclave/conversations';
import { ConversationsService } from './conversations.service.js';

/** Conversations of the chat UI (the data is libs/conversations'). */
@Module({
  imports: [ConversationsDataModule],
  controllers: [ConversationsController],
  providers: [ConversationsService],
})
export class ConversationsModule {}
