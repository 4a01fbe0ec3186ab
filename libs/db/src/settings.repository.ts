import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { queryRows } from './query-rows.js';

export interface Setting {
  key: string;
  value: unknown;
  updatedAt: Date;
}

const COLUMNS = 'key, value, updated_at AS "updatedAt"';

/**
 * Runtime settings (policies, defaults) as JSON values under dotted keys: the only code with SQL
 * on `enclave_settings`. Methods that may run in the caller's transaction take its EntityManager.
 */
@Injectable()
export class SettingsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async get(key: string, db: EntityManager = this.dataSource.manager): Promise<Setting | null> {
    const rows: Setting[] = await db.query(
      `SELECT ${COLUMNS} FROM enclave_settings WHERE key = $1`,
      [key],
    );
    return rows[0] ?? null;
  }

  /** The setting, locked until the caller's transaction ends (a read-modify-write holds it). */
  async getForUpdate(key: string, db: EntityManager): Promise<Setting | null> {
    const rows: Setting[] = await db.query(
      `SELECT ${COLUMNS} FROM enclave_settings WHERE key = $1 FOR UPDATE`,
      [key],
    );
    return rows[0] ?? null;
  }

  async list(): Promise<Setting[]> {
    return this.dataSource.query(`SELECT ${COLUMNS} FROM enclave_settings ORDER BY key`);
  }

  /** Inserts or replaces the value; returns the stored row. */
  async set(
    key: string,
    value: unknown,
    db: EntityManager = this.dataSource.manager,
  ): Promise<Setting> {
    const rows: Setting[] = await db.query(
      `INSERT INTO enclave_settings (key, value, updated_at) VALUES ($1, $2::jsonb, now())
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
       RETURNING ${COLUMNS}`,
      [key, JSON.stringify(value)],
    );
    return rows[0]!;
  }

  async delete(key: string): Promise<boolean> {
    const gone = await queryRows(
      this.dataSource,
      'DELETE FROM enclave_settings WHERE key = $1 RETURNING key',
      [key],
    );
    return gone.length > 0;
  }
}
