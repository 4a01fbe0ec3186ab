import { Module } from '@nestjs/common';
import { AdminFeedbackController } from './feedback.controller.js';
import { AdminFeedbackRepository } from './feedback.repository.js';

/** Feedback on answers (given in the chat UI), for admins and auditors. */
@Module({ controllers: [AdminFeedbackController], providers: [AdminFeedbackRepository] })
export class AdminFeedbackModule {}
