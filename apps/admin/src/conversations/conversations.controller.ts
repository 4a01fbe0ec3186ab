import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AuditLog } from '@enclave/audit';
import { CurrentPrincipal, type Principal, principalActor, Roles } from '@enclave/auth';
import {
  OpenConversationBody,
  type ConversationSummary,
  type OpenedConversation,
} from '@enclave/contracts';
import {
  ApiError,
  cursorParam,
  encodeCursor,
  line,
  queryInt,
  requestMeta,
  UuidParam,
  ZodBody,
  ZodQuery,
  type Sendable,
} from '@enclave/http';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { AdminConversationsService } from './conversations.service.js';

const MAX_LIMIT = 200;

const ConversationsQuery = z.strictObject({
  q: line().trim().min(1).max(200).optional(),
  userId: z.uuid().optional(),
  limit: queryInt(1, MAX_LIMIT).optional(),
  before: z.string().max(256).optional(),
});
type ConversationsQuery = z.infer<typeof ConversationsQuery>;

/**
 * Every user's conversations for admins and auditors: `GET /api/admin/conversations` lists
 * metadata only (owner, model, counts, times; newest activity first, paged by `nextBefore`;
 * `q` searches owners' emails). Titles are content (the start of the first message), so they,
 * like the messages, take `POST /api/admin/conversations/:id/open {reason}`, which is audited
 * with the reason in the same transaction that reads them.
 */
@Controller('api/admin/conversations')
@Roles('admin', 'auditor')
export class AdminConversationsController {
  constructor(
    private readonly repo: AdminConversationsService,
    private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
  ) {}

  @Get()
  async list(
    @Query(new ZodQuery(ConversationsQuery)) q: ConversationsQuery,
  ): Promise<Sendable<{ data: ConversationSummary[]; nextBefore: string | null }>> {
    const page = await this.repo.list({
      q: q.q ?? null,
      userId: q.userId ?? null,
      before: q.before === undefined ? null : cursorParam('updatedAt', q.before, 'before'),
      limit: q.limit ?? 50,
    });
    return {
      data: page.items,
      nextBefore: page.next ? encodeCursor('updatedAt', page.next) : null,
    };
  }

  @Post(':id/open')
  @HttpCode(200)
  open(
    @Param('id', UuidParam) id: string,
    @Body(new ZodBody(OpenConversationBody)) body: OpenConversationBody,
    @CurrentPrincipal() who: Principal,
    @Req() req: FastifyRequest,
  ): Promise<Sendable<OpenedConversation>> {
    return this.dataSource.transaction(async (db) => {
      const conversation = await this.repo.get(db, id);
      if (!conversation) {
        throw new ApiError(404, 'conversation_not_found', `No conversation with id ${id}.`);
      }
      const messages = await this.repo.messages(db, id);
      await this.audit.append(db, {
        actor: principalActor(who),
        action: 'admin.conversation.opened',
        target: { type: 'conversation', id },
        outcome: 'success',
        meta: requestMeta(req),
        payload: {
          reason: body.reason,
          ownerId: conversation.userId,
          ownerEmail: conversation.userEmail,
          messages: messages.length,
        },
      });
      return { conversation, messages };
    });
  }
}
