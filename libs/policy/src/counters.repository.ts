import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

export interface CounterIncrement {
  counter: string;
  by: number;
  expiresAt: Date;
}

/**
 * Fixed-window counters shared by every instance: one atomic upsert per request, so two chat
 * instances on one database enforce one limit exactly.
 */
@Injectable()
export class CountersRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Adds to each counter and returns the new values. */
  async increment(
    items: CounterIncrement[],
    db: EntityManager = this.dataSource.manager,
  ): Promise<Map<string, number>> {
    if (!items.length) return new Map();
    const rows: { counter: string; value: string }[] = await db.query(
      `INSERT INTO policy_counters (counter, value, expires_at)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::timestamptz[])
       ON CONFLICT (counter) DO UPDATE SET value = policy_counters.value + EXCLUDED.value
       RETURNING counter, value`,
      [items.map((i) => i.counter), items.map((i) => i.by), items.map((i) => i.expiresAt)],
    );
    return new Map(rows.map((r) => [r.counter, Number(r.value)]));
  }

  /**
   * Adds to `items` and reads `others` in one statement (one round trip): the new values of the
   * first and the current values of the second.
   */
  async incrementAndRead(
    items: CounterIncrement[],
    others: string[],
  ): Promise<Map<string, number>> {
    if (!others.length) return this.increment(items);
    const rows: { counter: string; value: string }[] = await this.dataSource.query(
      `WITH added AS (
         INSERT INTO policy_counters (counter, value, expires_at)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::timestamptz[])
         ON CONFLICT (counter) DO UPDATE SET value = policy_counters.value + EXCLUDED.value
         RETURNING counter, value)
       SELECT counter, value FROM added
       UNION ALL
       SELECT counter, value FROM policy_counters WHERE counter = ANY($4::text[])`,
      [items.map((i) => i.counter), items.map((i) => i.by), items.map((i) => i.expiresAt), others],
    );
    return new Map(rows.map((r) => [r.counter, Number(r.value)]));
  }

  /**
   * The increment as a common table expression (`counters_added`) for a larger statement, so a
   * completion's closing write commits its tokens in the same round trip, holding the counter
   * rows only for that one statement. With `onlyIf` (an earlier CTE), only when it has a row.
   */
  incrementCte(
    items: CounterIncrement[],
    params: unknown[],
    opts: { onlyIf?: string } = {},
  ): string {
    const base = params.length;
    const $ = (i: number) => `$${base + i}`;
    params.push(
      items.map((i) => i.counter),
      items.map((i) => i.by),
      items.map((i) => i.expiresAt),
    );
    return `counters_added AS (
         INSERT INTO policy_counters (counter, value, expires_at)
         SELECT * FROM unnest(${$(1)}::text[], ${$(2)}::bigint[], ${$(3)}::timestamptz[])
         ${opts.onlyIf ? `WHERE EXISTS (SELECT 1 FROM ${opts.onlyIf})` : ''}
         ON CONFLICT (counter) DO UPDATE SET value = policy_counters.value + EXCLUDED.value)`;
  }

  /** Creates the counter if it does not exist yet: true only for the one caller that did. */
  async claim(
    counter: string,
    expiresAt: Date,
    db: EntityManager = this.dataSource.manager,
  ): Promise<boolean> {
    const rows: unknown[] = await db.query(
      `INSERT INTO policy_counters (counter, value, expires_at) VALUES ($1, 1, $2)
       ON CONFLICT (counter) DO NOTHING RETURNING 1`,
      [counter, expiresAt],
    );
    return rows.length > 0;
  }

  async deleteExpired(): Promise<void> {
    await this.dataSource.query('DELETE FROM policy_counters WHERE expires_at < now()');
  }
}
