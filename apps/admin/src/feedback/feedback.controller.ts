import { Controller, Get, Query } from '@nestjs/common';
import { Roles } from '@enclave/auth';
import { DayOrTime, Rating, type FeedbackItem } from '@enclave/contracts';
import { cursorParam, encodeCursor, line, queryInt, ZodQuery, type Sendable } from '@enclave/http';
import { z } from 'zod';
import { AdminFeedbackService } from './feedback.service.js';

const DAY_MS = 86_400_000;
const MAX_LIMIT = 500;

const FeedbackQuery = z.strictObject({
  rating: Rating.optional(),
  model: line().min(1).max(256).optional(),
  from: DayOrTime.optional(),
  to: DayOrTime.optional(),
  limit: queryInt(1, MAX_LIMIT).optional(),
  cursor: z.string().max(256).optional(),
});
type FeedbackQuery = z.infer<typeof FeedbackQuery>;

/**
 * What staff said about the answers: `GET /api/admin/feedback?rating=&model=&from=&to=`, newest
 * first. `from` and `to` are days (both included) or exact times (`to` excluded); pages of
 * `limit` (default 100) follow `nextCursor`.
 */
@Controller('api/admin/feedback')
@Roles('admin', 'auditor')
export class AdminFeedbackController {
  constructor(private readonly repo: AdminFeedbackService) {}

  @Get()
  async list(
    @Query(new ZodQuery(FeedbackQuery)) q: FeedbackQuery,
  ): Promise<Sendable<{ data: FeedbackItem[]; nextCursor: string | null }>> {
    const page = await this.repo.list({
      rating: q.rating ?? null,
      model: q.model ?? null,
      from: q.from ? new Date(q.from) : null,
      // A day as `to` includes the whole day.
      before: q.to ? new Date(new Date(q.to).getTime() + (q.to.length === 10 ? DAY_MS : 0)) : null,
      after: q.cursor === undefined ? null : cursorParam('createdAt', q.cursor, 'cursor'),
      limit: q.limit ?? 100,
    });
    return {
      data: page.items,
      nextCursor: page.next ? encodeCursor('createdAt', page.next) : null,
    };
  }
}
