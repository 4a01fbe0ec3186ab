import type pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '@enclave/db';

/** Runs SQL and returns rows: the one thing the audit repositories need from a connection. */
export type Sql = <T = Record<string, unknown>>(text: string, params?: unknown[]) => Promise<T[]>;

/** For the sealer: its own connection, which also holds the sealer's advisory lock. */
export function sqlOfClient(client: pg.Client | pg.PoolClient): Sql {
  return async <T>(text: string, params: unknown[] = []) =>
    (await client.query(text, params)).rows as T[];
}

export function sqlOf(db: DataSource | EntityManager): Sql {
  return <T>(text: string, params: unknown[] = []) => queryRows<T>(db, text, params);
}
