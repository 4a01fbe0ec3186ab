import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

export type Rating = 'up' | 'down';

/** A user's feedback on one answer, as the chat UI shows it. */
export interface Feedback {
  messageId: string;
  rating: Rating;
  comment: string | null;
  model: string | null;
  backend: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What feedback needs to know about the message it is given on. */
export interface RatedMessage {
  id: string;
  role: string;
  conversationId: string | null;
  model: string | null;
  upstream: string | null;
  outcome: string | null;
}

/** Feedback as admins and auditors list it; the giver's email is auth's to add. */
export interface FeedbackRow extends Feedback {
  id: string;
  conversationId: string | null;
  userId: string;
}

export interface FeedbackFilter {
  rating: Rating | null;
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

const COLUMNS = `message_id AS "messageId", rating, comment, model, backend,
  created_at AS "createdAt", updated_at AS "updatedAt"`;

/**
 * Feedback on answers: one row per user per message, replaced when the user changes it; listed
 * for admins and auditors newest first (`list`).
 */
@Injectable()
export class FeedbackRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * The message when it exists and is the user's own; null otherwise, so another user's id reads
   * exactly like one that does not exist. Locked for the caller's transaction, so a regenerate
   * deleting it waits for the feedback to commit (or the other way round).
   */
  async messageOf(db: EntityManager, id: string, userId: string): Promise<RatedMessage | null> {
    const rows: RatedMessage[] = await db.query(
      `SELECT id, role, conversation_id AS "conversationId", model, upstream, outcome
         FROM messages WHERE id = $1 AND user_id = $2 FOR SHARE`,
      [id, userId],
    );
    return rows[0] ?? null;
  }

  /** Inserts or replaces the user's feedback on the message; also returns the rating it replaced. */
  async upsert(
    db: EntityManager,
    f: {
      messageId: string;
      userId: string;
      rating: Rating;
      comment: string | null;
      model: string | null;
      backend: string | null;
    },
  ): Promise<{ feedback: Feedback; previous: Rating | null }> {
    const before: { rating: Rating }[] = await db.query(
      'SELECT rating FROM feedback WHERE message_id = $1 AND user_id = $2 FOR UPDATE',
      [f.messageId, f.userId],
    );
    const rows: Feedback[] = await db.query(
      `INSERT INTO feedback (message_id, user_id, rating, comment, model, backend)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (message_id, user_id) DO UPDATE SET
         rating = EXCLUDED.rating, comment = EXCLUDED.comment, model = EXCLUDED.model,
         backend = EXCLUDED.backend, updated_at = now()
       RETURNING ${COLUMNS}`,
      [f.messageId, f.userId, f.rating, f.comment, f.model, f.backend],
    );
    return { feedback: rows[0]!, previous: before[0]?.rating ?? null };
  }

  /** The user's feedback on the messages of one of their conversations, oldest message first. */
  async listForConversation(
    conversationId: string,
    userId: string,
    db: EntityManager = this.dataSource.manager,
  ): Promise<Feedback[]> {
    return db.query(
      `SELECT f.message_id AS "messageId", f.rating, f.comment, f.model, f.backend,
              f.created_at AS "createdAt", f.updated_at AS "updatedAt"
         FROM feedback f JOIN messages m ON m.id = f.message_id
        WHERE m.conversation_id = $1 AND f.user_id = $2
        ORDER BY m.created_at, m.id`,
      [conversationId, userId],
    );
  }

  /** Everyone's feedback, newest first, for admins and auditors. */
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
              f.user_id AS "userId", f.rating, f.comment, f.model,
              f.backend, f.created_at AS "createdAt", f.updated_at AS "updatedAt",
              ${CREATED_AT_TEXT} AS "cursorAt"
         FROM feedback f
         JOIN messages m ON m.id = f.message_id
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
