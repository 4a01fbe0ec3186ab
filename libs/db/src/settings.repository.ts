import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { queryRows } from './query-rows.js';

export interface Setting {
  key: string;
  value: unknown;
  updatedAt: Date;
}

const COLUMNS = 'key, value, updated_at AS "updatedAt"';

/** Runtime settings (policies, defaults) as JSON values under dotted keys. */
@Injectable()
export class SettingsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async get(key: string): Promise<Setting | null> {
    const rows: Setting[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM enclave_settings WHERE key = $1`,
      [key],
    );
    return rows[0] ?? null;
  }

  async list(): Promise<Setting[]> {
    return this.dataSource.query(`SELECT ${COLUMNS} FROM enclave_settings ORDER BY key`);
  }

  /** Inserts or replaces the value; returns the stored row. */
  async set(key: string, value: unknown): Promise<Setting> {
    const rows: Setting[] = await this.dataSource.query(
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
