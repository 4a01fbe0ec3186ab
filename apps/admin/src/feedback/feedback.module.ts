import { Module } from '@nestjs/common';
import { AuthModule } from '@enclave/auth';
import { ConversationsDataModule } from '@enclave/conversations';
import { AdminFeedbackController } from './feedback.controller.js';
import { AdminFeedbackService } from './feedback.service.js';

/** Feedback on answers (given in the chat UI), for admins and auditors. */
@Module({
  imports: [AuthModule, ConversationsDataModule],
  controllers: [AdminFeedbackController],
  providers: [AdminFeedbackService],
})
export class AdminFeedbackModule {}
