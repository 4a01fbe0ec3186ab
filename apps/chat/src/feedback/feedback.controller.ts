import { Body, Controller, Get, Param, Put, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CurrentPrincipal, type Principal } from '@enclave/auth';
import { requestMeta, UuidParam, ZodBody, type Sendable } from '@enclave/http';
import { FeedbackBody, type Feedback } from '@enclave/contracts';
import { FeedbackService } from './feedback.service.js';

/** Feedback on the chat UI's answers, by the answers' owner. */
@Controller('api')
export class FeedbackController {
  constructor(private readonly feedback: FeedbackService) {}

  /** Sets (or replaces) the caller's rating and comment of one of their answers. */
  @Put('messages/:id/feedback')
  async submit(
    @Param('id', UuidParam) id: string,
    @Body(new ZodBody(FeedbackBody)) body: FeedbackBody,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
  ): Promise<Sendable<Feedback>> {
    return this.feedback.submit(principal, id, body, requestMeta(req));
  }

  /** The caller's feedback on a conversation's answers, for the UI to show when it opens one. */
  @Get('conversations/:id/feedback')
  async forConversation(
    @Param('id', UuidParam) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<Sendable<{ data: Feedback[] }>> {
    return { data: await this.feedback.forConversation(principal, id) };
  }
}
