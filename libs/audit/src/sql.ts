import type pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { queryRows, type Sql } from '@enclave/db';

export type { Sql };

/** For the sealer: its own connection, which also holds the sealer's advisory lock. */
export function sqlOfClient(client: pg.Client | pg.PoolClient): Sql {
  return async <T>(text: string, params: unknown[] = []) =>
    (await client.query(text, params)).rows as T[];
}

export function sqlOf(db: DataSource | EntityManager): Sql {
  return <T>(text: string, params: unknown[] = []) => queryRows<T>(db, text, params);
}
