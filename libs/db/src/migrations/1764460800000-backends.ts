import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The LLM servers Enclave routes to (libs/llm), and model aliases. */
export class Backends1764460800000 implements MigrationInterface {
  name = 'Backends1764460800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE backends (
        id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name            text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
        base_url        text NOT NULL CHECK (base_url ~ '^https?://'),
        api_key_sealed  bytea,
        models          text[],
        weight          integer NOT NULL DEFAULT 1 CHECK (weight BETWEEN 1 AND 1000),
        max_concurrent  integer NOT NULL DEFAULT 256 CHECK (max_concurrent BETWEEN 1 AND 100000),
        timeout_ms      integer NOT NULL DEFAULT 60000 CHECK (timeout_ms BETWEEN 100 AND 3600000),
        enabled         boolean NOT NULL DEFAULT true,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE model_aliases (
        alias       text PRIMARY KEY,
        model       text NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE model_aliases');
    await q.query('DROP TABLE backends');
  }
}
