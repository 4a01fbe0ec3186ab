import { HOLD_COVERS_EVENT } from './legal-holds.js';
import type { Sql } from '@enclave/db';

/**
 * SQL: the audit events about user `$1`: as actor, as subject (target), or as the owner named in
 * the payload (`api_key.*`). The erasure records themselves are kept: they hold no erased content.
 */
const USER_EVENTS = `(e.actor_id = $1::uuid
   OR (e.target_type = 'user' AND e.target_id = $1::text)
   OR e.payload -> 'owner' ->> 'id' = $1::text)
  AND e.action <> 'audit.erasure.performed'`;

/**
 * The ids of the active legal holds that forbid erasing user `userId`, oldest first: a hold over
 * the user, over an audit event about them, or matching one of `alsoCovering`, SQL conditions on
 * the hold `h` (with `$1` the user id) by which the callers name the records outside the audit
 * trail that the same erasure would destroy.
 */
export async function holdsBlockingErasure(
  sql: Sql,
  userId: string,
  alsoCovering: string[] = [],
): Promise<string[]> {
  const [held] = await sql<{ holds: string[] }>(
    `SELECT array(
       SELECT h.id::text FROM audit_legal_holds h
        WHERE h.released_at IS NULL
          AND (h.user_id = $1
               OR EXISTS (SELECT 1 FROM audit_events e WHERE ${USER_EVENTS} AND ${HOLD_COVERS_EVENT})
               ${alsoCovering.map((c) => `OR ${c}`).join('\n               ')})
        ORDER BY h.created_at) AS holds`,
    [userId],
  );
  return held!.holds;
}

/**
 * Erases the payloads of the audit events about user `userId` (run inside the erasure's
 * transaction, after `holdsBlockingErasure` found none; USER_EVENTS is repeated in the function). An erased event keeps every chained
 * column and its payload hash; its payload becomes `{"redacted":true}`, its salt is dropped (so
 * the kept hash no longer confirms a guess) and `redacted_at` is set: the chain still verifies
 * and the verifier counts the event as redacted. Returns how many were erased now.
 */
export async function redactUserEvents(sql: Sql, userId: string): Promise<number> {
  // The custody migration's SECURITY DEFINER function makes this very UPDATE (and skips any
  // held event): the admin role may erase without the right to change audit records.
  const [row] = await sql<{ n: number }>('SELECT enclave_audit_redact_user($1::uuid) AS n', [
    userId,
  ]);
  return row!.n;
}
