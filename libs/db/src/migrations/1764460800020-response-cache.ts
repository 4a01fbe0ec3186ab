import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cached answers to deterministic chat requests (libs/llm), shared by every chat instance behind
 * their in-memory LRUs. `backend_version` pins the backend's configuration when it answered:
 * changing the backend makes its entries misses.
 */
export class ResponseCache1764460800020 implements MigrationInterface {
  name = 'ResponseCache1764460800020';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE response_cache (
        key              bytea PRIMARY KEY,
        backend          text NOT NULL,
        backend_version  text NOT NULL,
        response         jsonb NOT NULL,
        created_at       timestamptz NOT NULL DEFAULT now(),
        expires_at       timestamptz NOT NULL
      )`);
    await q.query('CREATE INDEX response_cache_expires_idx ON response_cache (expires_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE response_cache');
  }
}
