import type { Sql } from '@enclave/db';

/** One retention step in its own transaction under the run's lock (null: skipped); libs/privacy. */
type RetentionStep = <T>(work: (sql: Sql) => Promise<T>) => Promise<T | null>;
/** SQL: whether a legal hold covers a record of `user` from `from` to `to` (libs/privacy). */
type HoldCondition = (user: string, from: string, to?: string) => string;

const BATCH = 10_000;

export interface UsagePruning {
  usageEventsDeleted: number;
  usageDaysDeleted: number;
  /** Past retention but kept because a legal hold covers them (events and daily rows). */
  usageHeld: number;
}

/**
 * Deletes the usage history from before `cutoff` that no legal hold covers: the request rows
 * (`usage_events`) and the daily totals (`usage_daily`, a UTC day once all of it is before the
 * cutoff), in batches, each batch committed through `step`. Usage is metadata (who, which
 * model, tokens, cost), kept for its own period (`usageRetentionDays`), so cost reports can
 * outlive the conversations they came from.
 */
export async function pruneUsage(
  step: RetentionStep,
  read: Sql,
  cutoff: Date,
  recordHeld: HoldCondition,
): Promise<UsagePruning> {
  const EVENT_HELD = recordHeld('u.user_id', 'u.at');
  const DAY_START = `(d.day::timestamp AT TIME ZONE 'UTC')`;
  const DAY_HELD = recordHeld('d.user_id', DAY_START, `(${DAY_START} + interval '1 day')`);
  const DAY_PAST = `${DAY_START} + interval '1 day' <= $1`;

  const usageEventsDeleted = await inBatches(step, (sql) =>
    sql(
      `DELETE FROM usage_events WHERE id IN (
         SELECT u.id FROM usage_events u WHERE u.at < $1 AND NOT ${EVENT_HELD} LIMIT ${BATCH})
       RETURNING 1`,
      [cutoff],
    ),
  );
  const usageDaysDeleted = await inBatches(step, (sql) =>
    sql(
      `DELETE FROM usage_daily WHERE ctid IN (
         SELECT d.ctid FROM usage_daily d WHERE ${DAY_PAST} AND NOT ${DAY_HELD} LIMIT ${BATCH})
       RETURNING 1`,
      [cutoff],
    ),
  );
  const [held] = await read<{ n: number }>(
    `SELECT (SELECT count(*) FROM usage_events u WHERE u.at < $1 AND ${EVENT_HELD})
          + (SELECT count(*) FROM usage_daily d WHERE ${DAY_PAST} AND ${DAY_HELD}) AS n`,
    [cutoff],
  );
  return { usageEventsDeleted, usageDaysDeleted, usageHeld: Number(held!.n) };
}

/** Runs `batch` until it deletes fewer than a batch's rows; the rows deleted in all. */
async function inBatches(step: RetentionStep, batch: (sql: Sql) => Promise<unknown[]>) {
  let deleted = 0;
  for (;;) {
    const n = await step(async (sql) => (await batch(sql)).length);
    deleted += n ?? 0;
    if (!n || n < BATCH) return deleted;
  }
}
