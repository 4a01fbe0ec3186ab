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

  async read(counters: string[]): Promise<Map<string, number>> {
    if (!counters.length) return new Map();
    const rows: { counter: string; value: string }[] = await this.dataSource.query(
      'SELECT counter, value FROM policy_counters WHERE counter = ANY($1::text[])',
      [counters],
    );
    return new Map(rows.map((r) => [r.counter, Number(r.value)]));
  }

  async deleteExpired(): Promise<void> {
    await this.dataSource.query('DELETE FROM policy_counters WHERE expires_at < now()');
  }
}
