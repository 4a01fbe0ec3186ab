import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Conversations of the chat UI and the messages of every completion. A completion made through
 * the API without a conversation still stores its assistant message (conversation_id NULL).
 */
export class Conversations1764288000002 implements MigrationInterface {
  name = 'Conversations1764288000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE conversations (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        title       text NOT NULL,
        model       text,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      'CREATE INDEX conversations_user_recent_idx ON conversations (user_id, updated_at DESC, id)',
    );
    await q.query(`
      CREATE TABLE messages (
        id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        conversation_id    uuid REFERENCES conversations (id) ON DELETE CASCADE,
        user_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        api_key_id         uuid REFERENCES api_keys (id) ON DELETE SET NULL,
        role               text NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
        content            text NOT NULL DEFAULT '',
        tool_calls         jsonb,
        model              text,
        upstream           text,
        outcome            text CHECK (outcome IN ('in_progress', 'completed', 'client_disconnected', 'upstream_error')),
        finish_reason      text,
        prompt_tokens      integer,
        completion_tokens  integer,
        latency_ms         integer,
        ttft_ms            integer,
        request_id         text,
        created_at         timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      'CREATE INDEX messages_conversation_idx ON messages (conversation_id, created_at) WHERE conversation_id IS NOT NULL',
    );
    await q.query('CREATE INDEX messages_user_created_idx ON messages (user_id, created_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE messages');
    await q.query('DROP TABLE conversations');
  }
}
