import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AuditLog } from '@enclave/audit';
import { CurrentPrincipal, type Principal, principalActor, Roles } from '@enclave/auth';
import { ApiError, requestMeta, UuidParam, ZodBody, ZodQuery } from '@enclave/http';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { AdminConversationsRepository } from './conversations.repository.js';

const MAX_LIMIT = 200;

const ConversationsQuery = z.strictObject({
  q: z.string().trim().min(1).max(200).optional(),
  userId: z.uuid().optional(),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(MAX_LIMIT))
    .optional(),
  before: z.string().max(256).optional(),
});
type ConversationsQuery = z.infer<typeof ConversationsQuery>;

const OpenBody = z.strictObject({
  reason: z.string().trim().min(5, 'give a reason of at least 5 characters').max(1000),
});
type OpenBody = z.infer<typeof OpenBody>;

/**
 * Every user's conversations for admins and auditors: `GET /api/admin/conversations` lists
 * metadata only (title, owner, counts; newest activity first, paged by `nextBefore`); reading the
 * messages takes `POST /api/admin/conversations/:id/open {reason}`, which is audited with the
 * reason in the same transaction that reads them.
 */
@Controller('api/admin/conversations')
@Roles('admin', 'auditor')
export class AdminConversationsController {
  constructor(
    private readonly repo: AdminConversationsRepository,
    private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
  ) {}

  @Get()
  async list(@Query(new ZodQuery(ConversationsQuery)) q: ConversationsQuery) {
    const page = await this.repo.list({
      q: q.q ?? null,
      userId: q.userId ?? null,
      before: q.before === undefined ? null : decodeCursor(q.before, 'before', ['updatedAt']),
      limit: q.limit ?? 50,
    });
    return { data: page.items, nextBefore: page.next ? encodeCursor(page.next) : null };
  }

  @Post(':id/open')
  @HttpCode(200)
  open(
    @Param('id', UuidParam) id: string,
    @Body(new ZodBody(OpenBody)) body: OpenBody,
    @CurrentPrincipal() who: Principal,
    @Req() req: FastifyRequest,
  ) {
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
