import { Injectable } from '@nestjs/common';
import { queryRows } from '@enclave/db';
import { DataSource, type EntityManager } from 'typeorm';
import { isUuid } from '@enclave/http';
import type { PageKey } from '@enclave/http';

/** Where a page of conversations ends: the last row's exact `updated_at` and its id. */
export type ConversationKey = PageKey<'updatedAt'>;

/** Sampling parameters sent with each message (OpenAI's names; libs/contracts' ChatParams). */
export type ConversationParams = Record<string, number>;

export interface Conversation {
  id: string;
  title: string;
  model: string | null;
  /** In front of every message; null: the administrator's default system prompt. */
  systemPrompt: string | null;
  params: ConversationParams;
  /** The message the shown path runs through (see activePath); null: the newest one. */
  activeMessageId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type MessageRole = 'system' | 'user' | 'assistant' | 'tool';

/** A message as the chat UI shows it (no request id, user or key columns). */
export interface ConversationMessage {
  id: string;
  role: MessageRole;
  /** The message this one follows (versions share it); null for the first. */
  parentId: string | null;
  content: string;
  toolCalls: unknown[] | null;
  model: string | null;
  upstream: string | null;
  outcome: string | null;
  finishReason: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  latencyMs: number | null;
  ttftMs: number | null;
  createdAt: Date;
}

/**
 * A conversation as admins and auditors list it: metadata, never content. The title is content
 * too (by default the start of the first message), so it is shown only once opened with a reason.
 * The owner's email is auth's to add (`users` is its table).
 */
export interface ConversationSummary {
  id: string;
  userId: string;
  model: string | null;
  messageCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface ConversationFilter {
  /** Only these owners (an email search resolved by auth); null: any owner. */
  userIds: string[] | null;
  /** Where the previous page ended: its last row's exact updated_at (text) and id. */
  before: ConversationKey | null;
  limit: number;
}

export interface ConversationPage {
  items: Conversation[];
  /** Where the next page starts; null on the last page. */
  next: ConversationKey | null;
}

const COLUMNS = `id, title, model, system_prompt AS "systemPrompt", params,
  active_message_id AS "activeMessageId", created_at AS "createdAt", updated_at AS "updatedAt"`;

const MESSAGE_COLUMNS = `id, role, parent_id AS "parentId", content, tool_calls AS "toolCalls", model, upstream, outcome,
  finish_reason AS "finishReason", prompt_tokens AS "promptTokens",
  completion_tokens AS "completionTokens", latency_ms AS "latencyMs", ttft_ms AS "ttftMs",
  created_at AS "createdAt"`;

/** The exact updated_at, to the microsecond, as the cursor carries it. */
const UPDATED_AT_TEXT = `to_char(c.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const SUMMARY = `c.id, c.user_id AS "userId", c.model,
  (SELECT count(*)::int FROM messages m WHERE m.conversation_id = c.id) AS "messageCount",
  c.created_at AS "createdAt", c.updated_at AS "updatedAt"`;

/** Makes `%`, `_` and `\` match themselves in a LIKE pattern (with ESCAPE '\'). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, '\\$&');
}

/**
 * Conversations. The chat UI's reads and writes of a user's conversation are scoped by
 * `user_id`, so another user's id behaves exactly like one that does not exist; admins and
 * auditors list everyone's (`listAll`, `getAny`). Methods that change rows take the caller's
 * EntityManager (its transaction).
 */
@Injectable()
export class ConversationsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(
    db: EntityManager,
    c: { userId: string; title: string; model: string | null },
  ): Promise<Conversation> {
    const rows: Conversation[] = await db.query(
      `INSERT INTO conversations (user_id, title, model) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
      [c.userId, c.title, c.model],
    );
    return rows[0]!;
  }

  /**
   * One page of the user's conversations, most recently updated first (`updated_at DESC, id
   * DESC`), starting after `after`; `q` keeps those whose title contains it, ignoring case.
   */
  async listForUser(
    userId: string,
    page: { limit: number; after: ConversationKey | null; q: string | null },
    db: EntityManager = this.dataSource.manager,
  ): Promise<ConversationPage> {
    const params: unknown[] = [userId];
    const where = ['user_id = $1'];
    if (page.after) {
      params.push(page.after.updatedAt, page.after.id);
      where.push(
        `(updated_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`,
      );
    }
    if (page.q) {
      params.push(`%${escapeLike(page.q)}%`);
      where.push(`title ILIKE $${params.length} ESCAPE '\\'`);
    }
    // One row more than asked tells whether another page follows.
    params.push(page.limit + 1);
    const rows: (Conversation & { cursorAt: string })[] = await db.query(
      `SELECT ${COLUMNS}, ${UPDATED_AT_TEXT} AS "cursorAt"
         FROM conversations c
        WHERE ${where.join(' AND ')}
        ORDER BY updated_at DESC, id DESC
        LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, page.limit);
    const last = items.at(-1);
    return {
      items: items.map(({ cursorAt: _cursorAt, ...c }) => c),
      next: rows.length > page.limit && last ? { updatedAt: last.cursorAt, id: last.id } : null,
    };
  }

  /**
   * The conversation when it exists and belongs to the user; null otherwise, including for an id
   * that is not a UUID (so callers may pass what a client sent).
   */
  async getForUser(
    id: string,
    userId: string,
    db: EntityManager = this.dataSource.manager,
  ): Promise<Conversation | null> {
    if (!isUuid(id)) return null;
    const rows: Conversation[] = await db.query(
      `SELECT ${COLUMNS} FROM conversations WHERE id = $1 AND user_id = $2`,
      [id, userId],
    );
    return rows[0] ?? null;
  }

  /** The renamed conversation; null when the user has no conversation with this id. */
  async rename(
    db: EntityManager,
    id: string,
    userId: string,
    title: string,
  ): Promise<Conversation | null> {
    const rows = await queryRows<Conversation>(
      db,
      `UPDATE conversations SET title = $3, updated_at = now()
        WHERE id = $1 AND user_id = $2 RETURNING ${COLUMNS}`,
      [id, userId, title],
    );
    return rows[0] ?? null;
  }

  /**
   * Deletes the conversation (its messages go with it, ON DELETE CASCADE); null when the user
   * has no conversation with this id. `messages` counts what the cascade removed.
   */
  async delete(
    db: EntityManager,
    id: string,
    userId: string,
  ): Promise<{ id: string; messages: number } | null> {
    // RETURNING sees the statement's snapshot, taken before the cascade ran.
    const rows = await queryRows<{ id: string; messages: number }>(
      db,
      `DELETE FROM conversations c WHERE c.id = $1 AND c.user_id = $2
       RETURNING c.id,
         (SELECT count(*)::int FROM messages m WHERE m.conversation_id = c.id) AS messages`,
      [id, userId],
    );
    return rows[0] ?? null;
  }

  /** Moves the conversation to the top of its owner's list (a message was added). */
  async touch(db: EntityManager, id: string): Promise<void> {
    await db.query('UPDATE conversations SET updated_at = now() WHERE id = $1', [id]);
  }

  /** The system prompt and parameters sent with every message; null when not the user's. */
  async updateSettings(
    db: EntityManager,
    id: string,
    userId: string,
    settings: { systemPrompt: string | null; params: ConversationParams },
  ): Promise<Conversation | null> {
    const rows = await queryRows<Conversation>(
      db,
      `UPDATE conversations SET system_prompt = $3, params = $4::jsonb
        WHERE id = $1 AND user_id = $2 RETURNING ${COLUMNS}`,
      [id, userId, settings.systemPrompt, JSON.stringify(settings.params)],
    );
    return rows[0] ?? null;
  }

  /**
   * Makes the shown path run through `messageId` (a version chosen, or the message just
   * written). The caller has checked the owner and that the message is in the conversation.
   */
  async setActiveMessage(db: EntityManager, id: string, messageId: string): Promise<void> {
    await db.query('UPDATE conversations SET active_message_id = $2 WHERE id = $1', [
      id,
      messageId,
    ]);
  }

  /** The conversation's messages, oldest first. The caller has checked who owns it. */
  async listMessages(
    conversationId: string,
    db: EntityManager = this.dataSource.manager,
  ): Promise<ConversationMessage[]> {
    return db.query(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1
        ORDER BY created_at, id`,
      [conversationId],
    );
  }

  /** Every user's conversations, most recently updated first, for admins and auditors. */
  async listAll(f: ConversationFilter): Promise<{
    items: ConversationSummary[];
    next: ConversationKey | null;
  }> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (f.userIds) where.push(`c.user_id = ANY($${params.push(f.userIds)}::uuid[])`);
    if (f.before) {
      params.push(f.before.updatedAt, f.before.id);
      where.push(
        `(c.updated_at, c.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`,
      );
    }
    params.push(f.limit + 1);
    const rows: (ConversationSummary & { cursorAt: string })[] = await this.dataSource.query(
      `SELECT ${SUMMARY}, ${UPDATED_AT_TEXT} AS "cursorAt"
         FROM conversations c
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

  /** Anyone's conversation with its title, for opening (the caller audits the reason in `db`). */
  async getAny(
    db: EntityManager,
    id: string,
  ): Promise<(ConversationSummary & { title: string }) | null> {
    const rows: (ConversationSummary & { title: string })[] = await db.query(
      `SELECT ${SUMMARY}, c.title FROM conversations c WHERE c.id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }
}
