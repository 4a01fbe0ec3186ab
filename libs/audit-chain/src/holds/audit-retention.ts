import { type MonthPartition, monthlyPartitions } from '@enclave/db';
import { EVENT_HELD } from './legal-holds.js';
import type { Sql } from '@enclave/db';

/**
 * Runs one retention step in its own transaction under the retention run's lock; null when
 * another run holds it. The retention run (libs/privacy) owns the lock and hands this in.
 */
export type RetentionStep = <T>(work: (sql: Sql) => Promise<T>) => Promise<T | null>;

/** The runtime policies' `auditRetentionDays`: days by action kind, else the default. */
export interface AuditRetentionRules {
  default: number | null;
  byKind: Record<string, number>;
}

export interface AuditPruning {
  partitionsDropped: string[];
  /** Events removed, by partition drop or row delete; their links are kept and marked pruned. */
  auditEventsPruned: number;
  /** Past retention but kept because a legal hold covers them. */
  auditEventsHeld: number;
  /** The positions whose events were pruned. */
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
 * Removes the audit events past their kind's retention at `now` (an injected clock, so tests
 * move time without sleeping) that are sealed and not held: a monthly partition whose every row
 * is so is detached and dropped whole; elsewhere the rows are deleted in batches. Their chain
 * links stay and are marked pruned, so the chain still verifies and names the pruned positions.
 * Each step commits on its own (through `step`); an interrupted run leaves a consistent state for
 * the next. `read` counts the held events afterwards, outside the lock. No rules: nothing is done.
 */
export async function pruneAuditEvents(
  step: RetentionStep,
  read: Sql,
  rules: AuditRetentionRules,
  now: Date,
): Promise<AuditPruning> {
  const result: AuditPruning = {
    partitionsDropped: [],
    auditEventsPruned: 0,
    auditEventsHeld: 0,
    prunedRange: null,
  };
  const kinds = Object.keys(rules.byKind);
  if (kinds.length === 0 && rules.default === null) return result;
  const days = kinds.map((k) => rules.byKind[k]!);
  // Nothing newer than the shortest retention can expire: lets the planner skip whole partitions.
  const shortest = Math.min(...days, rules.default ?? Infinity);
  const oldest = new Date(now.getTime() - (Number.isFinite(shortest) ? shortest : 0) * 86_400_000);
  const params = [now, kinds, days, rules.default, oldest];
  const noteRange = (positions: number[]) => {
    for (const pos of positions) {
      result.prunedRange = {
        from: Math.min(result.prunedRange?.from ?? pos, pos),
        to: Math.max(result.prunedRange?.to ?? pos, pos),
      };
    }
  };

  for (const p of (await step((sql) => monthlyPartitions(sql, 'audit_events'))) ?? []) {
    if (p.to > now) break;
    const dropped = await step((sql) => dropIfAllExpired(sql, p, params));
    if (dropped) {
      result.partitionsDropped.push(p.name);
      result.auditEventsPruned += dropped.events;
      noteRange(dropped.range);
    }
  }
  for (;;) {
    const positions = await step(async (sql) => {
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
  const [held] = await read<{ n: number }>(
    `SELECT count(*)::int AS n FROM audit_events e
      WHERE e.occurred_at < $5 AND ${EVENT_EXPIRED} AND ${EVENT_HELD}`,
    params,
  );
  result.auditEventsHeld = held!.n;
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
