import { Body, Controller, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal, type Principal } from '@enclave/auth';
import { line, requestMeta, text, UuidParam, ZodBody } from '@enclave/http';
import { z } from 'zod';
import { ConversationChatService } from './conversation-chat.service.js';
import { abortOnClientClose, ReplySse } from './sse.js';

const Turn = z
  .strictObject({
    model: line().min(1).max(256),
    content: text().trim().min(1).max(200_000).optional(),
    regenerate: z.boolean().optional(),
  })
  .refine((t) => (t.regenerate ? t.content === undefined : t.content !== undefined), {
    message: 'send either content, or regenerate: true',
    path: ['content'],
  });

@Controller('api/conversations')
export class ConversationChatController {
  constructor(private readonly chat: ConversationChatService) {}

  /** Adds the user's message and streams the answer (Server-Sent Events, OpenAI chunk format). */
  @Post(':id/messages')
  async send(
    @Param('id', UuidParam) id: string,
    @Body(new ZodBody(Turn)) turn: z.infer<typeof Turn>,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const signal = abortOnClientClose(reply);
    await this.chat.send(principal, id, turn, requestMeta(req), new ReplySse(reply), signal);
  }
}
