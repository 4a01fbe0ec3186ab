import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Runtime settings an administrator changes while Enclave runs (policies, defaults). */
export class Settings1764201600000 implements MigrationInterface {
  name = 'Settings1764201600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE enclave_settings (
        key        text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_.]*$'),
        value      jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE enclave_settings');
  }
}
