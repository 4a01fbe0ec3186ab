import type { Sql } from './sql.js';

/**
 * The monthly partitions of `audit_events` (migration 1764720000000): `audit_events_pYYYYMM`
 * holds the UTC month YYYY-MM; `audit_events_default` catches anything else. Monthly, not daily:
 * an event is looked up by id alone (the chain stores no time), which probes every partition, so
 * their number must stay small (12 a year); a month is also the unit retention drops.
 */
export const AUDIT_PARTITION_PREFIX = 'audit_events_p';
const DEFAULT_PARTITION = 'audit_events_default';

export interface MonthPartition {
  name: string;
  /** Inclusive start, exclusive end (UTC month boundaries). */
  from: Date;
  to: Date;
}

export function monthOf(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
}

export function addMonths(d: Date, n: number): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1));
}

export function partitionFor(month: Date): MonthPartition {
  const from = monthOf(month);
  const yyyymm = `${from.getUTCFullYear()}${String(from.getUTCMonth() + 1).padStart(2, '0')}`;
  return { name: `${AUDIT_PARTITION_PREFIX}${yyyymm}`, from, to: addMonths(from, 1) };
}

/** The monthly partitions that exist, oldest first. */
export async function auditPartitions(sql: Sql): Promise<MonthPartition[]> {
  const rows = await sql<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
       JOIN pg_class p ON p.oid = i.inhparent
      WHERE p.relname = 'audit_events' AND p.relnamespace = current_schema()::regnamespace`,
  );
  return rows
    .map((r) => r.name.match(/^audit_events_p(\d{4})(\d{2})$/))
    .filter((m): m is RegExpMatchArray => m !== null)
    .map((m) => partitionFor(new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1))))
    .sort((a, b) => a.from.getTime() - b.from.getTime());
}

/**
 * Creates the missing partitions from `now`'s month to `monthsAhead` months after it, and for
 * any month the default partition holds rows of. Those rows are moved into the new partition first
 * (Postgres refuses to attach a range the default still holds rows of). Run inside a transaction.
 */
export async function ensureAuditPartitions(
  sql: Sql,
  now: Date,
  monthsAhead = 2,
): Promise<string[]> {
  const existing = new Set((await auditPartitions(sql)).map((p) => p.name));
  const months = new Map<string, MonthPartition>();
  for (let i = 0; i <= monthsAhead; i++) {
    const p = partitionFor(addMonths(monthOf(now), i));
    months.set(p.name, p);
  }
  // Months the default partition caught (a clock set wrong, restored rows) get their own too,
  // so retention can drop them by month like any other.
  for (const { month } of await sql<{ month: string }>(
    `SELECT DISTINCT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month FROM ${DEFAULT_PARTITION}`,
  )) {
    const p = partitionFor(new Date(`${month}-01T00:00:00Z`));
    months.set(p.name, p);
  }
  const created: string[] = [];
  for (const p of months.values()) {
    if (existing.has(p.name)) continue;
    const [{ n }] = (await sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${DEFAULT_PARTITION} WHERE occurred_at >= $1 AND occurred_at < $2`,
      [p.from, p.to],
    )) as [{ n: number }];
    if (n === 0) {
      await sql(
        `CREATE TABLE ${p.name} PARTITION OF audit_events FOR VALUES FROM ('${p.from.toISOString()}') TO ('${p.to.toISOString()}')`,
      );
    } else {
      await sql(
        `CREATE TABLE ${p.name} (LIKE audit_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`,
      );
      await sql(
        `WITH moved AS (
           DELETE FROM ${DEFAULT_PARTITION} WHERE occurred_at >= $1 AND occurred_at < $2 RETURNING *)
         INSERT INTO ${p.name} SELECT * FROM moved`,
        [p.from, p.to],
      );
      await sql(
        `ALTER TABLE audit_events ATTACH PARTITION ${p.name} FOR VALUES FROM ('${p.from.toISOString()}') TO ('${p.to.toISOString()}')`,
      );
    }
    created.push(p.name);
  }
  return created;
}
