import { Injectable } from '@nestjs/common';
import { isUuid } from '@enclave/contracts';
import { DataSource } from 'typeorm';

export interface AuditEventFilter {
  /** Inclusive lower bound of occurred_at. */
  from: Date | null;
  /** Exclusive upper bound. */
  to: Date | null;
  /** A user id, or an actor label such as `cli` (matched ignoring case). */
  actor: string | null;
  /**
   * The user whose email `actor` is, looked up by the caller (libs/auth owns `users`): their
   * events by session and by API key match too.
   */
  actorUserId: string | null;
  /** An exact action, or a prefix ending in `.*` (`auth.*`). */
  action: string | null;
  /** Events with a smaller id than this (the previous page's `nextBefore`). */
  before: string | null;
  limit: number;
}

export interface ListedAuditEvent {
  /** Its position in the hash chain; null until the sealer has linked it. */
  position: number | null;
  id: string;
  occurredAt: Date;
  actor: { type: string; id: string | null; label: string | null };
  action: string;
  target: { type: string; id: string | null } | null;
  outcome: string;
  sourceIp: string | null;
  requestId: string | null;
  payload: Record<string, unknown>;
  /** The payload was erased (retention or privacy); the event still verifies. */
  redacted: boolean;
}

interface Row {
  position: string | null;
  id: string;
  occurredAt: Date;
  actorType: string;
  actorId: string | null;
  actorLabel: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  sourceIp: string | null;
  requestId: string | null;
  payload: Record<string, unknown>;
  redacted: boolean;
}

/** Audit events for the console's search: newest first by id, keyset-paged, with their chain positions. */
@Injectable()
export class AuditEventsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async list(f: AuditEventFilter): Promise<{ items: ListedAuditEvent[]; next: string | null }> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (f.from) where.push(`e.occurred_at >= $${params.push(f.from)}`);
    if (f.to) where.push(`e.occurred_at < $${params.push(f.to)}`);
    if (f.actor && isUuid(f.actor)) where.push(`e.actor_id = $${params.push(f.actor)}::uuid`);
    else if (f.actor) {
      const label = `lower(e.actor_label) = lower($${params.push(f.actor)})`;
      where.push(
        f.actorUserId ? `(${label} OR e.actor_id = $${params.push(f.actorUserId)}::uuid)` : label,
      );
    }
    if (f.action?.endsWith('.*')) {
      where.push(`starts_with(e.action, $${params.push(f.action.slice(0, -1))})`);
    } else if (f.action) where.push(`e.action = $${params.push(f.action)}`);
    if (f.before) where.push(`e.id < $${params.push(f.before)}::bigint`);
    params.push(f.limit + 1);
    const rows: Row[] = await this.dataSource.query(
      `SELECT c.pos::text AS position, e.id::text AS id, e.occurred_at AS "occurredAt",
              e.actor_type AS "actorType", e.actor_id AS "actorId", e.actor_label AS "actorLabel",
              e.action, e.target_type AS "targetType", e.target_id AS "targetId", e.outcome,
              e.source_ip AS "sourceIp", e.request_id AS "requestId", e.payload,
              e.redacted_at IS NOT NULL AS redacted
         FROM audit_events e LEFT JOIN audit_chain c ON c.event_id = e.id
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY e.id DESC
        LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, f.limit).map((r): ListedAuditEvent => ({
      position: r.position === null ? null : Number(r.position),
      id: r.id,
      occurredAt: r.occurredAt,
      actor: { type: r.actorType, id: r.actorId, label: r.actorLabel },
      action: r.action,
      target: r.targetType === null ? null : { type: r.targetType, id: r.targetId },
      outcome: r.outcome,
      sourceIp: r.sourceIp,
      requestId: r.requestId,
      payload: r.payload,
      redacted: r.redacted,
    }));
    return { items, next: rows.length > f.limit ? items.at(-1)!.id : null };
  }
}
