import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface FeedbackRow {
  id: string;
  messageId: string;
  conversationId: string | null;
  userId: string;
  userEmail: string;
  rating: 'up' | 'down';
  comment: string | null;
  model: string | null;
  backend: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface FeedbackFilter {
  rating: 'up' | 'down' | null;
  model: string | null;
  /** Inclusive lower bound on when the feedback was first given. */
  from: Date | null;
  /** Exclusive upper bound. */
  before: Date | null;
  /** Where the previous page ended: its last row's exact created_at (text) and id. */
  after: { createdAt: string; id: string } | null;
  limit: number;
}

/** The exact created_at, to the microsecond, as page cursors carry it. */
const CREATED_AT_TEXT = `to_char(f.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Feedback on answers for admins and auditors: newest first, with who gave it. */
@Injectable()
export class AdminFeedbackRepository {
  constructor(private readonly dataSource: DataSource) {}

  async list(
    f: FeedbackFilter,
  ): Promise<{ items: FeedbackRow[]; next: { createdAt: string; id: string } | null }> {
    const params: unknown[] = [];
    const where: string[] = [];
    const add = (sql: (n: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (f.rating) add((p) => `f.rating = ${p}`, f.rating);
    if (f.model) add((p) => `f.model = ${p}`, f.model);
    if (f.from) add((p) => `f.created_at >= ${p}`, f.from);
    if (f.before) add((p) => `f.created_at < ${p}`, f.before);
    if (f.after) {
      params.push(f.after.createdAt, f.after.id);
      where.push(
        `(f.created_at, f.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`,
      );
    }
    params.push(f.limit + 1);
    const rows: (FeedbackRow & { cursorAt: string })[] = await this.dataSource.query(
      `SELECT f.id, f.message_id AS "messageId", m.conversation_id AS "conversationId",
              f.user_id AS "userId", u.email AS "userEmail", f.rating, f.comment, f.model,
              f.backend, f.created_at AS "createdAt", f.updated_at AS "updatedAt",
              ${CREATED_AT_TEXT} AS "cursorAt"
         FROM feedback f
         JOIN messages m ON m.id = f.message_id
         JOIN users u ON u.id = f.user_id
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY f.created_at DESC, f.id DESC
        LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, f.limit);
    const last = items.at(-1);
    return {
      items: items.map(({ cursorAt: _cursorAt, ...row }) => row),
      next: rows.length > f.limit && last ? { createdAt: last.cursorAt, id: last.id } : null,
    };
  }
}
