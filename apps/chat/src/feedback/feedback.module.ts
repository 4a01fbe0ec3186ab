import { Module } from '@nestjs/common';
import { ConversationsDataModule } from '@enclave/conversations';
import { FeedbackController } from './feedback.controller.js';
import { FeedbackService } from './feedback.service.js';

/** Thumbs up / down with an optional comment on answers (PUT /api/messages/:id/feedback). */
@Module({
  imports: [ConversationsDataModule],
  controllers: [FeedbackController],
  providers: [FeedbackService],
})
export class FeedbackModule {}
