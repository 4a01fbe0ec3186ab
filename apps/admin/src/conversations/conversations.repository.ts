import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * A conversation as admins and auditors list it: metadata, never content. The title is content
 * too (by default the start of the first message), so it is shown only once opened with a reason.
 */
export interface ConversationSummary {
  id: string;
  userId: string;
  userEmail: string;
  model: string | null;
  messageCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface OpenedMessage {
  id: string;
  role: string;
  content: string;
  model: string | null;
  outcome: string | null;
  createdAt: Date;
}

/** An opened conversation: the summary and its title. */
export interface OpenedConversation extends ConversationSummary {
  title: string;
}

export interface ConversationFilter {
  /** Matches the owner's email, case-insensitively (never the title: that is content). */
  q: string | null;
  userId: string | null;
  /** Where the previous page ended: its last row's exact updated_at (text) and id. */
  before: { updatedAt: string; id: string } | null;
  limit: number;
}

const UPDATED_AT_TEXT = `to_char(c.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const SUMMARY = `c.id, c.user_id AS "userId", u.email AS "userEmail", c.model,
  (SELECT count(*)::int FROM messages m WHERE m.conversation_id = c.id) AS "messageCount",
  c.created_at AS "createdAt", c.updated_at AS "updatedAt"`;

/** Every user's conversations, for admins and auditors. */
@Injectable()
export class AdminConversationsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async list(f: ConversationFilter): Promise<{
    items: ConversationSummary[];
    next: { updatedAt: string; id: string } | null;
  }> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (f.q) {
      const like = `%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      where.push(`u.email ILIKE $${params.push(like)}`);
    }
    if (f.userId) where.push(`c.user_id = $${params.push(f.userId)}`);
    if (f.before) {
      params.push(f.before.updatedAt, f.before.id);
      where.push(
        `(c.updated_at, c.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`,
      );
    }
    params.push(f.limit + 1);
    const rows: (ConversationSummary & { cursorAt: string })[] = await this.dataSource.query(
      `SELECT ${SUMMARY}, ${UPDATED_AT_TEXT} AS "cursorAt"
         FROM conversations c JOIN users u ON u.id = c.user_id
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY c.updated_at DESC, c.id DESC
        LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, f.limit);
    const last = items.at(-1);
    return {
      items: items.map(({ cursorAt: _c, ...row }) => row),
      next: rows.length > f.limit && last ? { updatedAt: last.cursorAt, id: last.id } : null,
    };
  }

  /** For opening: the caller audits the reason in the same transaction. */
  async get(db: EntityManager, id: string): Promise<OpenedConversation | null> {
    const rows: OpenedConversation[] = await db.query(
      `SELECT ${SUMMARY}, c.title FROM conversations c JOIN users u ON u.id = c.user_id WHERE c.id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  async messages(db: EntityManager, conversationId: string): Promise<OpenedMessage[]> {
    return db.query(
      `SELECT id, role, content, model, outcome, created_at AS "createdAt"
         FROM messages WHERE conversation_id = $1 ORDER BY created_at, id`,
      [conversationId],
    );
  }
}
