import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

export type MessageOutcome =
  | 'in_progress'
  | 'completed'
  | 'client_disconnected'
  | 'upstream_error'
  /** Closed by the reconciler: its process died or it outlived the deadline. */
  | 'interrupted'
  /** Not served: the database was away when the request came (recorded from the spool). */
  | 'failed';

export interface PendingMessage {
  /** Made by the app, so a record spooled during an outage can name its message. */
  id: string;
  /** The chat process serving it (chat_instances), for the reconciler. */
  instanceId: string | null;
  conversationId: string | null;
  /** The message it answers in its conversation (see activePath); absent for API calls. */
  parentId?: string | null;
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
  outcome: Exclude<MessageOutcome, 'in_progress' | 'interrupted'>;
  finishReason: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  latencyMs: number;
  ttftMs: number | null;
  /** Answered from the response cache; null when the request was not cacheable. */
  cacheHit: boolean | null;
}

/**
 * The messages of completions: written when a completion starts, completed when it ends; and
 * the figures the console's dashboard computes over them.
 */
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
  ): Promise<void> {
    await db.query(
      `INSERT INTO messages (id, conversation_id, user_id, api_key_id, role, model, outcome, request_id,
                             instance_id, parent_id)
       VALUES ($1, $2, $3, $4, 'assistant', $5, 'in_progress', $6, $7, $8)`,
      [
        m.id,
        m.conversationId,
        m.userId,
        m.apiKeyId,
        m.model,
        m.requestId,
        m.instanceId,
        m.parentId ?? null,
      ],
    );
  }

  /**
   * The pending message of a spooled record, unless it was stored after all (the insert may
   * have committed although its answer was lost). `createdAt` is when the request came.
   */
  async insertPendingIfAbsent(
    db: EntityManager,
    m: PendingMessage & { createdAt: Date },
  ): Promise<void> {
    await db.query(
      `INSERT INTO messages (id, conversation_id, user_id, api_key_id, role, model, outcome, request_id,
                             instance_id, created_at, parent_id)
       SELECT $1, $2, $3, $4, 'assistant', $5, 'in_progress', $6, $7, $8, $9
        WHERE NOT EXISTS (SELECT 1 FROM messages WHERE id = $1)`,
      [
        m.id,
        m.conversationId,
        m.userId,
        m.apiKeyId,
        m.model,
        m.requestId,
        m.instanceId,
        m.createdAt,
        m.parentId ?? null,
      ],
    );
  }

  async insertUserMessage(
    db: EntityManager,
    m: {
      conversationId: string;
      /** The message it follows; the conversation's id for a first message (see activePath). */
      parentId: string;
      userId: string;
      content: string;
      model: string;
      requestId: string | null;
    },
  ): Promise<string> {
    const [{ id }] = await db.query(
      `INSERT INTO messages (conversation_id, user_id, role, content, model, request_id, parent_id)
       VALUES ($1, $2, 'user', $3, $4, $5, $6) RETURNING id`,
      [m.conversationId, m.userId, m.content, m.model, m.requestId, m.parentId],
    );
    return id;
  }

  /**
   * The finishing update as a common table expression (`closed`) for the closing statement: it
   * returns the message only if it was still in progress, so a message is closed once (by its
   * request, or by the reconciler) and what joins on `closed` happens once too.
   */
  finishCte(id: string, m: FinishedMessage, params: unknown[]): string {
    const base = params.length;
    const $ = (i: number) => `$${base + i}`;
    params.push(
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
    );
    return `closed AS (
         UPDATE messages SET content = ${$(2)}, tool_calls = ${$(3)}::jsonb, outcome = ${$(4)},
                finish_reason = ${$(5)}, prompt_tokens = ${$(6)}, completion_tokens = ${$(7)},
                latency_ms = ${$(8)}, ttft_ms = ${$(9)}, upstream = ${$(10)}, cache_hit = ${$(11)}
          WHERE id = ${$(1)} AND outcome = 'in_progress'
          RETURNING id)`;
  }

  /** Closes a message the reconciler found abandoned, as the CTE `closed` (see finishCte). */
  interruptCte(id: string, params: unknown[]): string {
    params.push(id);
    return `closed AS (
         UPDATE messages SET outcome = 'interrupted',
                latency_ms = (extract(epoch FROM now() - created_at) * 1000)::integer
          WHERE id = $${params.length} AND outcome = 'in_progress'
          RETURNING id)`;
  }

  /**
   * Messages left in progress by a process that is gone (its instance row is missing, is an
   * earlier run of `instanceName`, or was not seen for `staleSeconds`; null: do not judge by
   * that), or older than `deadlineSeconds`. Times are the database's own clock. Locked
   * (skipping rows another reconciler holds) for the caller's transaction.
   */
  async findAbandoned(
    db: EntityManager,
    q: {
      instanceId: string;
      instanceName: string;
      staleSeconds: number | null;
      deadlineSeconds: number;
      limit: number;
    },
  ): Promise<AbandonedMessage[]> {
    return db.query(
      `SELECT m.id, m.user_id AS "userId", m.api_key_id AS "apiKeyId", m.model,
              m.request_id AS "requestId", m.conversation_id AS "conversationId",
              m.created_at AS "createdAt",
              CASE WHEN m.created_at < now() - $4 * interval '1 second'
                   THEN 'deadline_passed' ELSE 'process_gone' END AS reason
         FROM messages m
         LEFT JOIN chat_instances i ON i.id = m.instance_id
        WHERE m.outcome = 'in_progress' AND m.role = 'assistant'
          AND (m.created_at < now() - $4 * interval '1 second'
               OR (m.instance_id IS NOT NULL AND m.instance_id <> $1
                   AND (i.id IS NULL
                        OR (i.name = $2 AND i.id <> $1)
                        OR ($3::float8 IS NOT NULL AND i.seen_at < now() - $3 * interval '1 second'))))
        ORDER BY m.created_at
        LIMIT $5
          FOR UPDATE OF m SKIP LOCKED`,
      [q.instanceId, q.instanceName, q.staleSeconds, q.deadlineSeconds, q.limit],
    );
  }
}

/** A message left in progress (see findAbandoned); who sent it is the caller's to look up. */
export interface AbandonedMessage {
  id: string;
  userId: string;
  apiKeyId: string | null;
  model: string | null;
  requestId: string | null;
  conversationId: string | null;
  createdAt: Date;
  reason: 'deadline_passed' | 'process_gone';
}
