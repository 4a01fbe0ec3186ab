import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Whether an answer came from the response cache, kept on its message so the admin dashboard can
 * count cache hits from the same rows as requests, tokens and latency (NULL for older messages
 * and for messages that were not cacheable).
 */
export class MessageCacheHit1764633600000 implements MigrationInterface {
  name = 'MessageCacheHit1764633600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE messages ADD COLUMN cache_hit boolean');
    // The dashboard reads the last minutes of answers.
    await q.query(
      `CREATE INDEX messages_assistant_created_idx ON messages (created_at) WHERE role = 'assistant'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX messages_assistant_created_idx');
    await q.query('ALTER TABLE messages DROP COLUMN cache_hit');
  }
}
