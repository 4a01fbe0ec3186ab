import { Injectable } from '@nestjs/common';
import { AuditLog } from '@enclave/audit';
import { type Principal, principalActor } from '@enclave/auth';
import { ConversationsRepository, type Feedback, FeedbackRepository } from '@enclave/conversations';
import { ApiError, type RequestMeta } from '@enclave/http';
import { Metrics } from '@enclave/observability';
import { DataSource } from 'typeorm';
import type { FeedbackBody } from '@enclave/contracts';

/**
 * Thumbs up / down on answers. Only the answer's owner may rate it; the row and its audit event
 * commit together, and each submission is counted in the metrics.
 */
@Injectable()
export class FeedbackService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: FeedbackRepository,
    private readonly conversations: ConversationsRepository,
    private readonly audit: AuditLog,
    private readonly metrics: Metrics,
  ) {}

  async submit(
    principal: Principal,
    messageId: string,
    body: FeedbackBody,
    meta: RequestMeta,
  ): Promise<Feedback> {
    const feedback = await this.dataSource.transaction(async (db) => {
      const message = await this.repo.messageOf(db, messageId, principal.userId);
      if (!message) {
        throw new ApiError(404, 'message_not_found', `You have no message with id ${messageId}.`, {
          param: 'id',
        });
      }
      if (message.role !== 'assistant') {
        throw new ApiError(
          400,
          'not_an_answer',
          'Feedback is given on the answers, not on your own messages.',
          { param: 'id' },
        );
      }
      if (message.outcome === 'in_progress') {
        throw new ApiError(
          409,
          'answer_in_progress',
          'The answer is still being written; rate it once it is complete.',
          { param: 'id' },
        );
      }
      const { feedback, previous } = await this.repo.upsert(db, {
        messageId,
        userId: principal.userId,
        rating: body.rating,
        comment: body.comment ?? null,
        model: message.model,
        backend: message.upstream,
      });
      // The comment stays out of the trail (it may quote the conversation); the table keeps it.
      await this.audit.append(db, {
        actor: principalActor(principal),
        action: 'feedback.submitted',
        target: { type: 'message', id: messageId },
        outcome: 'success',
        meta,
        payload: {
          rating: feedback.rating,
          previousRating: previous,
          commented: feedback.comment !== null,
          model: feedback.model,
          backend: feedback.backend,
          conversationId: message.conversationId,
        },
      });
      return feedback;
    });
    this.metrics.feedback(feedback.rating, feedback.model ?? 'unknown');
    return feedback;
  }

  /** The caller's feedback on a conversation's answers (404 when the conversation is not theirs). */
  async forConversation(principal: Principal, conversationId: string): Promise<Feedback[]> {
    const conversation = await this.conversations.getForUser(conversationId, principal.userId);
    if (!conversation) {
      throw new ApiError(
        404,
        'conversation_not_found',
        `You have no conversation with id ${conversationId}.`,
        { param: 'id' },
      );
    }
    return this.repo.listForConversation(conversationId, principal.userId);
  }
}
