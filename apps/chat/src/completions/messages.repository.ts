import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

export type MessageOutcome = 'in_progress' | 'completed' | 'client_disconnected' | 'upstream_error';

export interface PendingMessage {
  conversationId: string | null;
  userId: string;
  apiKeyId: string | null;
  model: string;
  requestId: string | null;
}

export interface FinishedMessage {
  /** The backend that answered; null when none did. */
  upstream: string | null;
  content: string;
  toolCalls: unknown[] | null;
  outcome: Exclude<MessageOutcome, 'in_progress'>;
  finishReason: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  latencyMs: number;
  ttftMs: number | null;
  /** Answered from the response cache; null when the request was not cacheable. */
  cacheHit: boolean | null;
}

/** The messages of completions: written when a completion starts, completed when it ends. */
@Injectable()
export class MessagesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * The assistant message, stored before the upstream is called, so a process killed
   * mid-answer still leaves a record that the request happened (outcome in_progress).
   */
  async insertPending(
    m: PendingMessage,
    db: EntityManager = this.dataSource.manager,
  ): Promise<string> {
    const [{ id }] = await db.query(
      `INSERT INTO messages (conversation_id, user_id, api_key_id, role, model, outcome, request_id)
       VALUES ($1, $2, $3, 'assistant', $4, 'in_progress', $5) RETURNING id`,
      [m.conversationId, m.userId, m.apiKeyId, m.model, m.requestId],
    );
    return id;
  }

  async insertUserMessage(
    db: EntityManager,
    m: {
      conversationId: string;
      userId: string;
      content: string;
      model: string;
      requestId: string | null;
    },
  ): Promise<string> {
    const [{ id }] = await db.query(
      `INSERT INTO messages (conversation_id, user_id, role, content, model, request_id)
       VALUES ($1, $2, 'user', $3, $4, $5) RETURNING id`,
      [m.conversationId, m.userId, m.content, m.model, m.requestId],
    );
    return id;
  }

  async delete(db: EntityManager, id: string): Promise<void> {
    await db.query('DELETE FROM messages WHERE id = $1', [id]);
  }

  async finish(db: EntityManager, id: string, m: FinishedMessage): Promise<void> {
    await db.query(
      `UPDATE messages SET content = $2, tool_calls = $3::jsonb, outcome = $4, finish_reason = $5,
              prompt_tokens = $6, completion_tokens = $7, latency_ms = $8, ttft_ms = $9, upstream = $10,
              cache_hit = $11
        WHERE id = $1`,
      [
        id,
        m.content,
        m.toolCalls ? JSON.stringify(m.toolCalls) : null,
        m.outcome,
        m.finishReason,
        m.promptTokens,
        m.completionTokens,
        m.latencyMs,
        m.ttftMs,
        m.upstream,
        m.cacheHit,
      ],
    );
  }
}
