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

const COLUMNS = `message_id AS "messageId", rating, comment, model, backend,
  created_at AS "createdAt", updated_at AS "updatedAt"`;

/** Feedback on answers: one row per user per message, replaced when the user changes it. */
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
}
