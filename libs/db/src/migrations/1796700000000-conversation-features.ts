import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the chat UI adds to conversations (issue 21):
 *
 * - Versions: a message names the message it follows (`messages.parent_id`; a first message names
 *   the conversation), so an edited question and a regenerated answer are siblings under the same
 *   parent and nothing is deleted; `conversations.active_message_id` is the message the person
 *   last chose to continue from (the shown path descends from it to its newest answer). Existing
 *   messages keep parent_id NULL, which reads as "follows the message stored before it": no
 *   rewrite of every stored message. No foreign key: a key to the partitioned `messages` must
 *   name (id, created_at), and a missing parent only starts the path there.
 * - Full-text search over the user's messages: a GIN index on the `simple` text-search
 *   configuration (no stemming, so it behaves the same for English, German and French text).
 *   Created on the partitioned parent, like the other message indexes, so Postgres builds it on
 *   every partition and on each one added later. It covers a message's first 100,000
 *   characters: Postgres refuses a tsvector over 1 MB of words, which would refuse the message
 *   itself (a long list of distinct numbers can get there).
 * - Per-conversation system prompt and parameters; presets (a user's own, or published by an
 *   admin for everyone: `user_id` NULL) and prompt templates (the same two kinds).
 */
export class ConversationFeatures1796700000000 implements MigrationInterface {
  name = 'ConversationFeatures1796700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE messages ADD COLUMN parent_id uuid');
    await q.query(
      `CREATE INDEX messages_search_idx ON messages
         USING gin (to_tsvector('simple', left(content, 100000)))
        WHERE conversation_id IS NOT NULL`,
    );

    await q.query(`
      ALTER TABLE conversations
        ADD COLUMN active_message_id uuid,
        ADD COLUMN system_prompt text,
        ADD COLUMN params jsonb NOT NULL DEFAULT '{}'`);

    await q.query(`
      CREATE TABLE chat_presets (
        id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id        uuid REFERENCES users (id) ON DELETE CASCADE,
        name           text NOT NULL,
        system_prompt  text,
        params         jsonb NOT NULL DEFAULT '{}',
        created_by     uuid REFERENCES users (id) ON DELETE SET NULL,
        created_at     timestamptz NOT NULL DEFAULT now(),
        updated_at     timestamptz NOT NULL DEFAULT now()
      )`);
    // One name per owner, and one among the published ones (NULLs are not equal in a plain key).
    await q.query(
      'CREATE UNIQUE INDEX chat_presets_own_name_idx ON chat_presets (user_id, lower(name)) WHERE user_id IS NOT NULL',
    );
    await q.query(
      'CREATE UNIQUE INDEX chat_presets_shared_name_idx ON chat_presets (lower(name)) WHERE user_id IS NULL',
    );

    await q.query(`
      CREATE TABLE prompt_templates (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id     uuid REFERENCES users (id) ON DELETE CASCADE,
        name        text NOT NULL,
        content     text NOT NULL,
        created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      'CREATE UNIQUE INDEX prompt_templates_own_name_idx ON prompt_templates (user_id, name) WHERE user_id IS NOT NULL',
    );
    await q.query(
      'CREATE UNIQUE INDEX prompt_templates_shared_name_idx ON prompt_templates (name) WHERE user_id IS NULL',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE prompt_templates');
    await q.query('DROP TABLE chat_presets');
    await q.query(`
      ALTER TABLE conversations
        DROP COLUMN params, DROP COLUMN system_prompt, DROP COLUMN active_message_id`);
    await q.query('DROP INDEX messages_search_idx');
    await q.query('ALTER TABLE messages DROP COLUMN parent_id');
  }
}
