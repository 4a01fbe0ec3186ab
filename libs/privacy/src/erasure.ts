import { type AuditActor, AuditLog } from '@enclave/audit';
import { holdCoversRecord, holdsBlockingErasure, redactUserEvents } from '@enclave/audit-chain';
import { UsersRepository } from '@enclave/auth';
import {
  eraseChatContent,
  eraseStoredResponses,
  holdOverUserMessages,
  holdOverUserResponses,
} from '@enclave/conversations';
import { sqlOf } from '@enclave/db';
import { ApiError, type RequestMeta } from '@enclave/http';
import type { EntityManager } from 'typeorm';

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
  /** Stored responses of the Responses API deleted. */
  storedResponses: number;
  erasedAt: string;
}

/**
 * Right to erasure: erases one user's audit payloads (libs/audit `redactUserEvents`, the chain
 * still verifies), conversation contents (`eraseChatContent`) and stored responses
 * (`eraseStoredResponses`) in the caller's transaction
 * `db`, recorded as `audit.erasure.performed`; either all of it happens or none. Refused (409
 * `legal_hold_active`) while a legal hold covers the user or any of their events or messages: a
 * hold preserves evidence, erasure destroys it, and a hold is released deliberately first.
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
  const user = await new UsersRepository(db.connection).findByIdForUpdate(userId, db);
  if (!user) throw new ApiError(404, 'user_not_found', `No user has the id ${userId}.`);
  const holds = await holdsBlockingErasure(sql, userId, [
    holdOverUserMessages(holdCoversRecord),
    holdOverUserResponses(holdCoversRecord),
  ]);
  if (holds.length) {
    throw new ApiError(
      409,
      'legal_hold_active',
      `A legal hold covers this user's records (hold ${holds.join(', ')}); release it first to erase them.`,
    );
  }
  const auditEvents = await redactUserEvents(sql, userId);
  const chat = await eraseChatContent(sql, userId);
  const storedResponses = await eraseStoredResponses(sql, userId);
  const result: ErasureResult = {
    userId,
    auditEvents,
    messages: chat.messages,
    conversations: chat.conversations,
    feedbackComments: chat.feedbackComments,
    storedResponses,
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
      presetsAndTemplates: chat.presetsAndTemplates,
      storedResponses: result.storedResponses,
    },
  });
  return result;
}
