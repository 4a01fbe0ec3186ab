import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { DataSource, EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
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

/**
 * Streams the text of `COPY (…) TO STDOUT`: a tab-separated line per row, as Postgres sends it
 * (the exporter reads millions of rows this way instead of pages of parsed row objects).
 */
export type CopyOut = (text: string) => AsyncIterable<Buffer>;

export function copyOutOfClient(client: pg.ClientBase): CopyOut {
  return (text) => client.query(copyTo(text));
}

/** COPY on a connection of the DataSource's pool, given back when the stream ends. */
export function copyOutOf(ds: DataSource): CopyOut {
  return async function* (text) {
    const pool = (ds.driver as PostgresDriver).master as pg.Pool;
    const client = await pool.connect();
    let done = false;
    try {
      yield* client.query(copyTo(text));
      done = true;
    } finally {
      // A COPY left half-read leaves the connection mid-protocol: it is closed, not reused.
      client.release(!done);
    }
  };
}
