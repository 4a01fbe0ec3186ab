import { Body, Controller, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal, type Principal } from '@enclave/auth';
import { SendMessageBody } from '@enclave/contracts';
import { requestMeta, UuidParam, ZodBody } from '@enclave/http';
import { ConversationChatService } from './conversation-chat.service.js';
import { abortOnClientClose, ReplySse } from './sse.js';

@Controller('api/conversations')
export class ConversationChatController {
  constructor(private readonly chat: ConversationChatService) {}

  /** Adds the user's message and streams the answer (Server-Sent Events, OpenAI chunk format). */
  @Post(':id/messages')
  async send(
    @Param('id', UuidParam) id: string,
    @Body(new ZodBody(SendMessageBody)) turn: SendMessageBody,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const signal = abortOnClientClose(reply);
    await this.chat.send(principal, id, turn, requestMeta(req), new ReplySse(reply), signal);
  }
}
