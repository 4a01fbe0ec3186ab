import { Injectable } from '@nestjs/common';
import type { RequestMeta } from '@enclave/http';
import type { EntityManager } from 'typeorm';
import { canonicalJson } from './canonical-json.js';
import { newPayloadSalt, payloadTextHash } from './payload-hash.js';

export type AuditOutcome = 'success' | 'failure' | 'denied' | 'partial';

export interface AuditActor {
  type: 'user' | 'api_key' | 'system' | 'anonymous';
  /** The user's id (for api_key actors too: the key's owner). */
  id?: string | null;
  /** Human-readable: an email, "email (key ek_1a2b3c4d)", "cli". */
  label?: string | null;
}

export interface AuditEvent {
  actor: AuditActor;
  /** A stable dotted name from docs/audit-events.md, e.g. `auth.login.failed`. */
  action: string;
  target?: { type: string; id: string | null } | null;
  outcome: AuditOutcome;
  meta?: RequestMeta | null;
  payload?: Record<string, unknown>;
}

export const SYSTEM_ACTOR: AuditActor = { type: 'system', id: null, label: 'system' };

/**
 * Appends audit events. Always pass the EntityManager of the transaction that makes the change
 * being recorded, so the event commits (or rolls back) with it. The event is queued for the
 * sealer in the same statement, with the salted hash of its payload that the chain commits to.
 */
@Injectable()
export class AuditLog {
  async append(manager: EntityManager, event: AuditEvent): Promise<void> {
    const params: unknown[] = [];
    const ctes = this.appendCtes(event, params);
    await manager.query(`WITH ${ctes} SELECT 1`, params);
  }

  /**
   * The append as common table expressions for a larger statement, so a caller can commit the
   * event with its own change in one round trip: `audit_event` inserts the event, `audit_queued`
   * queues it for the sealer. With `onlyIf` (the name of an earlier CTE), the event is written
   * only when that CTE returned a row. The values are pushed onto `params`.
   */
  appendCtes(
    event: AuditEvent,
    params: unknown[],
    opts: { onlyIf?: string; occurredAt?: Date } = {},
  ): string {
    // The payload as plain JSON (what JSON.stringify keeps of it), in canonical form: stored as
    // this very text (a json column keeps it as written) and hashed as it stands.
    const json = canonicalJson(JSON.parse(JSON.stringify(event.payload ?? {})));
    const salt = newPayloadSalt().toString('hex');
    const hash = payloadTextHash(salt, json);
    const values = [
      event.actor.type,
      event.actor.id ?? null,
      event.actor.label ?? null,
      event.action,
      event.target?.type ?? null,
      event.target?.id ?? null,
      event.outcome,
      event.meta?.ip ?? null,
      event.meta?.userAgent ?? null,
      event.meta?.requestId ?? null,
      json,
      salt,
      hash,
      opts.occurredAt ?? null,
    ];
    const base = params.length;
    const $ = (i: number) => `$${base + i}`;
    params.push(...values);
    return `audit_event AS (
         INSERT INTO audit_events
           (actor_type, actor_id, actor_label, action, target_type, target_id, outcome,
            source_ip, user_agent, request_id, payload, payload_salt, payload_hash, occurred_at)
         SELECT ${$(1)}, ${$(2)}::uuid, ${$(3)}, ${$(4)}, ${$(5)}, ${$(6)}, ${$(7)}, ${$(8)}, ${$(9)},
                ${$(10)}, ${$(11)}::json, decode(${$(12)}, 'hex'), decode(${$(13)}, 'hex'),
                coalesce(${$(14)}::timestamptz, now())
         ${opts.onlyIf ? `WHERE EXISTS (SELECT 1 FROM ${opts.onlyIf})` : ''}
         RETURNING id),
       audit_queued AS (INSERT INTO audit_seal_queue (event_id) SELECT id FROM audit_event)`;
  }
}
