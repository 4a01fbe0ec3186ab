import type { Sql } from './query-rows.js';

/**
 * The monthly range partitions of `audit_events` (by `occurred_at`) and `messages` (by
 * `created_at`), made by migrations 1764720000000 and 1764720000001: `<table>_pYYYYMM` holds
 * the UTC month YYYY-MM; `<table>_default` catches anything else. Monthly, not daily: a row is
 * often found by id alone (the chain stores an event's id, the chat app updates a message by
 * id), which probes every partition's index, so their number must stay small (12 a year); a
 * month is also the unit retention drops.
 */
export type PartitionedTable = 'audit_events' | 'messages';

const TIME_COLUMN: Record<PartitionedTable, string> = {
  audit_events: 'occurred_at',
  messages: 'created_at',
};

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

export function partitionFor(table: PartitionedTable, month: Date): MonthPartition {
  const from = monthOf(month);
  const yyyymm = `${from.getUTCFullYear()}${String(from.getUTCMonth() + 1).padStart(2, '0')}`;
  return { name: `${table}_p${yyyymm}`, from, to: addMonths(from, 1) };
}

/** The monthly partitions of the table that exist, oldest first. */
export async function monthlyPartitions(
  sql: Sql,
  table: PartitionedTable,
): Promise<MonthPartition[]> {
  const rows = await sql<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
       JOIN pg_class p ON p.oid = i.inhparent
      WHERE p.relname = $1 AND p.relnamespace = current_schema()::regnamespace`,
    [table],
  );
  const pattern = new RegExp(`^${table}_p(\\d{4})(\\d{2})$`);
  return rows
    .map((r) => r.name.match(pattern))
    .filter((m): m is RegExpMatchArray => m !== null)
    .map((m) => partitionFor(table, new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1))))
    .sort((a, b) => a.from.getTime() - b.from.getTime());
}

/**
 * Creates the missing partitions from `now`'s month to `monthsAhead` months after it, and for
 * any month the default partition holds rows of, so retention can drop those by month too. Rows
 * the default partition caught for a new month are moved into it first (Postgres refuses to
 * attach a range the default still holds rows of); not for `messages`, whose rows feedback
 * references. Run inside a transaction.
 */
export async function ensureMonthlyPartitions(
  sql: Sql,
  table: PartitionedTable,
  now: Date,
  monthsAhead = 2,
): Promise<string[]> {
  const column = TIME_COLUMN[table];
  const fallback = `${table}_default`;
  const existing = new Set((await monthlyPartitions(sql, table)).map((p) => p.name));
  const months = new Map<string, MonthPartition>();
  for (let i = 0; i <= monthsAhead; i++) {
    const p = partitionFor(table, addMonths(monthOf(now), i));
    months.set(p.name, p);
  }
  const movable = table !== 'messages';
  for (const { month } of movable
    ? await sql<{ month: string }>(
        `SELECT DISTINCT to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM') AS month FROM ${fallback}`,
      )
    : []) {
    const p = partitionFor(table, new Date(`${month}-01T00:00:00Z`));
    months.set(p.name, p);
  }
  const created: string[] = [];
  for (const p of months.values()) {
    if (existing.has(p.name)) continue;
    const bounds = `FOR VALUES FROM ('${p.from.toISOString()}') TO ('${p.to.toISOString()}')`;
    const [{ n }] = (await sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${fallback} WHERE ${column} >= $1 AND ${column} < $2`,
      [p.from, p.to],
    )) as [{ n: number }];
    if (n === 0) {
      await sql(`CREATE TABLE ${p.name} PARTITION OF ${table} ${bounds}`);
    } else if (!movable) {
      // Feedback references messages: moving a row (delete + insert) would cascade to its
      // feedback. Such a month stays in the default partition, removed row by row by retention.
      continue;
    } else {
      await sql(`CREATE TABLE ${p.name} (LIKE ${table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
      await sql(
        `WITH moved AS (
           DELETE FROM ${fallback} WHERE ${column} >= $1 AND ${column} < $2 RETURNING *)
         INSERT INTO ${p.name} SELECT * FROM moved`,
        [p.from, p.to],
      );
      await sql(`ALTER TABLE ${table} ATTACH PARTITION ${p.name} ${bounds}`);
    }
    created.push(p.name);
  }
  return created;
}
