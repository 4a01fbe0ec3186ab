import type { DataSource } from 'typeorm';
import { AuditLog, SYSTEM_ACTOR } from './audit-log.js';
import {
  auditPartitions,
  ensureMonthlyPartitions,
  monthlyPartitions,
  type MonthPartition,
} from './monthly-partitions.js';
import { EVENT_HELD, MESSAGE_HELD } from './legal-holds.js';
import { sqlOf, type Sql } from './sql.js';

/** Arbitrary but fixed: the transaction lock that keeps retention runs from overlapping. */
export const RETENTION_LOCK = 7_315_006;

/** The retention rules (the runtime policies' `auditRetentionDays` and `messageRetentionDays`). */
export interface RetentionRules {
  audit: { default: number | null; byKind: Record<string, number> };
  messageDays: number | null;
}

export interface RetentionResult {
  /** False when another run held the lock (nothing done). */
  ran: boolean;
  partitionsCreated: string[];
  partitionsDropped: string[];
  /** Events removed, by partition drop or row delete; their links are kept and marked pruned. */
  auditEventsPruned: number;
  /** Past retention but kept because a legal hold covers them. */
  auditEventsHeld: number;
  messagesDeleted: number;
  messagesHeld: number;
  conversationsDeleted: number;
  /** The positions whose events were pruned in this run. */
  prunedRange: { from: number; to: number } | null;
}

const BATCH = 10_000;

/**
 * SQL: whether the audit event `e` is past its retention at `$1` (now), under the rules
 * `$2` (kinds), `$3` (their days) and `$4` (default days). The longest matching kind wins, as in
 * `auditRetentionFor`; no rule (null) keeps the event.
 */
const EVENT_EXPIRED = `e.occurred_at < $1::timestamptz - make_interval(days => coalesce(
  (SELECT r.days FROM unnest($2::text[], $3::int[]) AS r(kind, days)
    WHERE e.action = r.kind OR starts_with(e.action, r.kind || '.')
    ORDER BY length(r.kind) DESC LIMIT 1),
  $4::int))`;

const EVENT_SEALED = 'EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_id = e.id)';

/**
 * Applies retention once at `now` (an injected clock, so tests move time without sleeping).
 * Audit events past their kind's retention, sealed and not held are removed: a monthly partition
 * whose every row is so is detached and dropped whole; elsewhere the rows are deleted. Their chain
 * links stay and are marked pruned, so the chain still verifies and names the pruned positions.
 * Conversation messages older than `messageDays` and not held are deleted (the messages table is
 * not partitioned, see docs/audit.md). Records `audit.retention.applied` when anything changed.
 * Each step commits on its own; an interrupted run leaves a consistent state for the next.
 */
export async function applyRetention(
  ds: DataSource,
  rules: RetentionRules,
  now: Date,
  opts: { monthsAhead?: number; audit?: AuditLog } = {},
): Promise<RetentionResult> {
  const result: RetentionResult = {
    ran: false,
    partitionsCreated: [],
    partitionsDropped: [],
    auditEventsPruned: 0,
    auditEventsHeld: 0,
    messagesDeleted: 0,
    messagesHeld: 0,
    conversationsDeleted: 0,
    prunedRange: null,
  };
  const locked = async <T>(work: (sql: Sql) => Promise<T>): Promise<T | null> =>
    ds.transaction(async (m) => {
      const sql = sqlOf(m);
      const [row] = await sql<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [
        RETENTION_LOCK,
      ]);
      return row!.ok ? work(sql) : null;
    });

  const created = await locked(async (sql) => [
    ...(await ensureMonthlyPartitions(sql, 'audit_events', now, opts.monthsAhead ?? 2)),
    ...(await ensureMonthlyPartitions(sql, 'messages', now, opts.monthsAhead ?? 2)),
  ]);
  if (created === null) return result;
  result.ran = true;
  result.partitionsCreated = created;

  const kinds = Object.keys(rules.audit.byKind);
  const days = kinds.map((k) => rules.audit.byKind[k]!);
  // Nothing newer than the shortest retention can expire: lets the planner skip whole partitions.
  const shortest = Math.min(...days, rules.audit.default ?? Infinity);
  const oldest = new Date(now.getTime() - (Number.isFinite(shortest) ? shortest : 0) * 86_400_000);
  const params = [now, kinds, days, rules.audit.default, oldest];
  const noteRange = (positions: number[]) => {
    for (const pos of positions) {
      result.prunedRange = {
        from: Math.min(result.prunedRange?.from ?? pos, pos),
        to: Math.max(result.prunedRange?.to ?? pos, pos),
      };
    }
  };
  const auditRules = kinds.length > 0 || rules.audit.default !== null;

  if (auditRules) {
    for (const p of (await locked(auditPartitions)) ?? []) {
      if (p.to > now) break;
      const dropped = await locked((sql) => dropIfAllExpired(sql, p, params));
      if (dropped) {
        result.partitionsDropped.push(p.name);
        result.auditEventsPruned += dropped.events;
        noteRange(dropped.range);
      }
    }
    for (;;) {
      const positions = await locked(async (sql) => {
        const rows = await sql<{ pos: string }>(
          `WITH doomed AS (
             SELECT e.id, e.occurred_at FROM audit_events e
              WHERE e.occurred_at < $5 AND ${EVENT_EXPIRED} AND ${EVENT_SEALED} AND NOT ${EVENT_HELD}
              LIMIT ${BATCH}),
           gone AS (
             DELETE FROM audit_events e USING doomed d
              WHERE e.id = d.id AND e.occurred_at = d.occurred_at RETURNING e.id)
           UPDATE audit_chain c SET pruned_at = $1 FROM gone g
            WHERE c.event_id = g.id RETURNING c.pos::text AS pos`,
          params,
        );
        return rows.map((r) => Number(r.pos));
      });
      if (!positions?.length) break;
      result.auditEventsPruned += positions.length;
      noteRange([Math.min(...positions), Math.max(...positions)]);
      if (positions.length < BATCH) break;
    }
    const [held] = await ds.query(
      `SELECT count(*)::int AS n FROM audit_events e
        WHERE e.occurred_at < $5 AND ${EVENT_EXPIRED} AND ${EVENT_HELD}`,
      params,
    );
    result.auditEventsHeld = held.n;
  }

  if (rules.messageDays !== null) {
    const cutoff = new Date(now.getTime() - rules.messageDays * 86_400_000);
    for (const p of (await locked((sql) => monthlyPartitions(sql, 'messages'))) ?? []) {
      if (p.to > cutoff) break;
      const dropped = await locked((sql) => dropMessagesIfUnheld(sql, p));
      if (dropped !== null) {
        result.partitionsDropped.push(p.name);
        result.messagesDeleted += dropped;
      }
    }
    for (;;) {
      const n = await locked(async (sql) => {
        const rows = await sql(
          `DELETE FROM messages WHERE id IN (
             SELECT m.id FROM messages m WHERE m.created_at < $1 AND NOT ${MESSAGE_HELD}
              LIMIT ${BATCH}) RETURNING id`,
          [cutoff],
        );
        return rows.length;
      });
      result.messagesDeleted += n ?? 0;
      if (!n || n < BATCH) break;
    }
    const gone = await locked((sql) =>
      sql(
        `DELETE FROM conversations c WHERE c.updated_at < $1
            AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id)
            AND NOT EXISTS (SELECT 1 FROM audit_legal_holds h
                             WHERE h.released_at IS NULL AND (h.user_id IS NULL OR h.user_id = c.user_id)
                               AND (h.from_at IS NULL OR c.updated_at >= h.from_at)
                               AND (h.to_at IS NULL OR c.created_at < h.to_at))
          RETURNING c.id`,
        [cutoff],
      ),
    );
    result.conversationsDeleted = gone?.length ?? 0;
    const [held] = await ds.query(
      `SELECT count(*)::int AS n FROM messages m WHERE m.created_at < $1 AND ${MESSAGE_HELD}`,
      [cutoff],
    );
    result.messagesHeld = held.n;
  }

  const changed =
    result.auditEventsPruned + result.messagesDeleted + result.conversationsDeleted > 0 ||
    result.partitionsDropped.length > 0;
  if (changed) {
    await ds.transaction((m) =>
      (opts.audit ?? new AuditLog()).append(m, {
        actor: { ...SYSTEM_ACTOR, label: 'retention' },
        action: 'audit.retention.applied',
        target: null,
        outcome: 'success',
        payload: {
          at: now.toISOString(),
          rules: { audit: rules.audit, messageDays: rules.messageDays },
          auditEventsPruned: result.auditEventsPruned,
          auditEventsHeld: result.auditEventsHeld,
          prunedRange: result.prunedRange,
          partitionsDropped: result.partitionsDropped,
          messagesDeleted: result.messagesDeleted,
          messagesHeld: result.messagesHeld,
          conversationsDeleted: result.conversationsDeleted,
        },
      }),
    );
  }
  return result;
}

/**
 * Drops a past month's partition when every event in it is past retention, sealed and not held;
 * its links are marked pruned in the same transaction. A month with one held or kept event is
 * left to the row-wise delete (which removes only what may go).
 */
async function dropIfAllExpired(
  sql: Sql,
  p: MonthPartition,
  params: unknown[],
): Promise<{ events: number; range: number[] } | null> {
  const [keep] = await sql(
    `SELECT 1 FROM ${p.name} e
      WHERE (${EVENT_EXPIRED}) IS NOT TRUE OR NOT ${EVENT_SEALED} OR ${EVENT_HELD} LIMIT 1`,
    params.slice(0, 4),
  );
  if (keep) return null;
  const [span] = await sql<{ n: number; min: string | null; max: string | null }>(
    `WITH pruned AS (
       UPDATE audit_chain c SET pruned_at = $1 FROM ${p.name} e WHERE c.event_id = e.id
       RETURNING c.pos)
     SELECT count(*)::int AS n, min(pos)::text AS min, max(pos)::text AS max FROM pruned`,
    [params[0]],
  );
  await sql(`ALTER TABLE audit_events DETACH PARTITION ${p.name}`);
  await sql(`DROP TABLE ${p.name}`);
  const range = span?.min ? [Number(span.min), Number(span.max)] : [];
  return { events: span?.n ?? 0, range };
}

/**
 * Drops a month of messages that lies wholly before the cutoff unless a legal hold covers one of
 * them. Their feedback is deleted first, as a row delete would have cascaded to it (and a
 * partition still referenced by feedback cannot be detached). Returns the messages dropped.
 */
async function dropMessagesIfUnheld(sql: Sql, p: MonthPartition): Promise<number | null> {
  const [held] = await sql(`SELECT 1 FROM ${p.name} m WHERE ${MESSAGE_HELD} LIMIT 1`);
  if (held) return null;
  await sql(
    `DELETE FROM feedback f USING ${p.name} m
      WHERE f.message_id = m.id AND f.message_created_at = m.created_at`,
  );
  const [{ n }] = (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${p.name}`)) as [
    { n: number },
  ];
  await sql(`ALTER TABLE messages DETACH PARTITION ${p.name}`);
  await sql(`DROP TABLE ${p.name}`);
  return n;
}
