import { ApiError, type RequestMeta } from '@enclave/http';
import type { EntityManager } from 'typeorm';
import { type AuditActor, AuditLog } from './audit-log.js';
import { REDACTED_PAYLOAD } from './chain.js';
import { HOLD_COVERS_EVENT, HOLD_COVERS_MESSAGE } from './legal-holds.js';
import { sqlOf } from './sql.js';

export interface ErasureResult {
  userId: string;
  /** Audit events whose payload (and salt) were erased now. */
  auditEvents: number;
  /** Conversation messages whose text and tool calls were erased. */
  messages: number;
  /** Conversations whose title (taken from the first message) was erased. */
  conversations: number;
  /** Feedback comments erased. */
  feedbackComments: number;
  erasedAt: string;
}

/**
 * SQL: the audit events about user `$1`: as actor, as subject (target), or as the owner named in
 * the payload (`api_key.*`). The erasure records themselves are kept: they hold no erased content.
 */
const USER_EVENTS = `(e.actor_id = $1::uuid
   OR (e.target_type = 'user' AND e.target_id = $1::text)
   OR e.payload -> 'owner' ->> 'id' = $1::text)
  AND e.action <> 'audit.erasure.performed'`;

/**
 * Right to erasure: erases one user's audit payloads and conversation contents in one
 * transaction, recorded as `audit.erasure.performed`. An erased event keeps every chained column
 * and its payload hash; its payload becomes `{"redacted": true}`, its salt is dropped (so the
 * kept hash no longer confirms a guess) and `redacted_at` is set: the chain still verifies and
 * the verifier counts the event as redacted. Refused (409 `legal_hold_active`) while a legal
 * hold covers any of the user's events or messages: a hold preserves evidence, erasure destroys
 * it, and a hold is released deliberately first.
 */
export async function eraseUser(
  db: EntityManager,
  userId: string,
  reason: string,
  actor: AuditActor,
  meta: RequestMeta | null = null,
  audit: AuditLog = new AuditLog(),
): Promise<ErasureResult> {
  const sql = sqlOf(db);
  const [user] = await sql<{ id: string }>('SELECT id FROM users WHERE id = $1 FOR UPDATE', [
    userId,
  ]);
  if (!user) throw new ApiError(404, 'user_not_found', `No user has the id ${userId}.`);
  // Every active hold over the user or over any event or message that would be erased.
  const [held] = await sql<{ holds: string[] }>(
    `SELECT array(
       SELECT h.id::text FROM audit_legal_holds h
        WHERE h.released_at IS NULL
          AND (h.user_id = $1
               OR EXISTS (SELECT 1 FROM audit_events e WHERE ${USER_EVENTS} AND ${HOLD_COVERS_EVENT})
               OR EXISTS (SELECT 1 FROM messages m WHERE m.user_id = $1 AND ${HOLD_COVERS_MESSAGE}))
        ORDER BY h.created_at) AS holds`,
    [userId],
  );
  if (held!.holds.length) {
    throw new ApiError(
      409,
      'legal_hold_active',
      `A legal hold covers this user's records (hold ${held!.holds.join(', ')}); release it first to erase them.`,
    );
  }
  const events = await sql(
    `UPDATE audit_events e
        SET payload = $2::jsonb, payload_salt = NULL, redacted_at = now()
      WHERE ${USER_EVENTS} AND e.redacted_at IS NULL
     RETURNING e.id`,
    [userId, JSON.stringify(REDACTED_PAYLOAD)],
  );
  const messages = await sql(
    `UPDATE messages SET content = '', tool_calls = NULL
      WHERE user_id = $1 AND (content <> '' OR tool_calls IS NOT NULL) RETURNING id`,
    [userId],
  );
  const conversations = await sql(
    `UPDATE conversations SET title = 'Erased conversation'
      WHERE user_id = $1 AND title <> 'Erased conversation' RETURNING id`,
    [userId],
  );
  const comments = await sql(
    `UPDATE feedback SET comment = NULL WHERE user_id = $1 AND comment IS NOT NULL RETURNING id`,
    [userId],
  );
  const result: ErasureResult = {
    userId,
    auditEvents: events.length,
    messages: messages.length,
    conversations: conversations.length,
    feedbackComments: comments.length,
    erasedAt: new Date().toISOString(),
  };
  await audit.append(db, {
    actor,
    action: 'audit.erasure.performed',
    target: { type: 'user', id: userId },
    outcome: 'success',
    meta,
    payload: {
      userId,
      reason,
      auditEvents: result.auditEvents,
      messages: result.messages,
      conversations: result.conversations,
      feedbackComments: result.feedbackComments,
    },
  });
  return result;
}
