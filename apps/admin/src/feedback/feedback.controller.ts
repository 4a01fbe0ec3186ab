import { Controller, Get, Query } from '@nestjs/common';
import { Roles } from '@enclave/auth';
import { ApiError, ZodQuery } from '@enclave/http';
import { z } from 'zod';
import { AdminFeedbackRepository } from './feedback.repository.js';

const DAY_MS = 86_400_000;
const MAX_LIMIT = 500;

/** A day (YYYY-MM-DD, UTC) or an exact ISO time. */
const When = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

const FeedbackQuery = z.strictObject({
  rating: z.enum(['up', 'down']).optional(),
  model: z.string().min(1).max(256).optional(),
  from: When.optional(),
  to: When.optional(),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(MAX_LIMIT))
    .optional(),
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
  constructor(private readonly repo: AdminFeedbackRepository) {}

  @Get()
  async list(@Query(new ZodQuery(FeedbackQuery)) q: FeedbackQuery) {
    const page = await this.repo.list({
      rating: q.rating ?? null,
      model: q.model ?? null,
      from: q.from ? new Date(q.from) : null,
      // A day as `to` includes the whole day.
      before: q.to ? new Date(new Date(q.to).getTime() + (q.to.length === 10 ? DAY_MS : 0)) : null,
      after: q.cursor === undefined ? null : decodeCursor(q.cursor),
      limit: q.limit ?? 100,
    });
    return {
      data: page.items,
      nextCursor: page.next ? Buffer.from(JSON.stringify(page.next)).toString('base64url') : null,
    };
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UTC_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const { createdAt, id } = (parsed ?? {}) as Record<string, unknown>;
    if (
      typeof createdAt === 'string' &&
      UTC_MICROS.test(createdAt) &&
      !Number.isNaN(Date.parse(createdAt)) &&
      typeof id === 'string' &&
      UUID.test(id)
    ) {
      return { createdAt, id };
    }
  } catch {
    // falls through to the error below
  }
  throw new ApiError(
    400,
    'invalid_cursor',
    'The cursor is not valid; pass nextCursor exactly as a previous page returned it.',
    { param: 'cursor' },
  );
}
