import type pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';

/** Runs SQL and returns rows: the one thing a repository needs from a connection. */
export type Sql = <T = Record<string, unknown>>(text: string, params?: unknown[]) => Promise<T[]>;

/**
 * Runs SQL and returns its rows. TypeORM's Postgres query() returns `[rows, affectedCount]` for
 * UPDATE and DELETE but plain rows otherwise; this hides the difference (rows are objects, never
 * arrays, so the shapes cannot be confused).
 */
export async function queryRows<T>(
  db: DataSource | EntityManager,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const result = await db.query(sql, params);
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}

export function sqlOf(db: DataSource | EntityManager): Sql {
  return <T>(text: string, params: unknown[] = []) => queryRows<T>(db, text, params);
}

/** Sql on one client of its own (the sealer's connection, which also holds its advisory lock). */
export function sqlOfClient(client: pg.ClientBase): Sql {
  return async <T>(text: string, params: unknown[] = []) =>
    (await client.query(text, params)).rows as T[];
}
