import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `messages` becomes a table partitioned by month of `created_at` (`messages_pYYYYMM`, plus
 * `messages_default`), so message retention drops whole months (docs/audit.md). The primary key
 * becomes (id, created_at); ids stay random uuids, unique in practice as before. Feedback
 * references a message by (message_id, message_created_at): a foreign key to a partitioned table
 * must name its whole key. A trigger fills message_created_at from the message when an insert
 * leaves it out, so writers of feedback keep naming only the message id.
 *
 * Existing messages and feedback are copied unchanged (ids, times, contents).
 */
export class MessagesPartitions1764720000001 implements MigrationInterface {
  name = 'MessagesPartitions1764720000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE feedback DROP CONSTRAINT feedback_message_id_fkey');
    await q.query('ALTER TABLE feedback ADD COLUMN message_created_at timestamptz');
    await q.query(
      `UPDATE feedback f SET message_created_at = m.created_at FROM messages m WHERE m.id = f.message_id`,
    );
    await q.query('DELETE FROM feedback WHERE message_created_at IS NULL');
    await q.query('ALTER TABLE feedback ALTER COLUMN message_created_at SET NOT NULL');

    await q.query('ALTER TABLE messages RENAME TO messages_unpartitioned');
    await q.query(
      'ALTER TABLE messages_unpartitioned RENAME CONSTRAINT messages_pkey TO messages_unpartitioned_pkey',
    );
    for (const idx of ['conversation', 'user_created', 'assistant_created'])
      await q.query(`ALTER INDEX messages_${idx}_idx RENAME TO messages_unpartitioned_${idx}_idx`);
    await q.query(`
      CREATE TABLE messages (
        id                 uuid NOT NULL DEFAULT gen_random_uuid(),
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
        created_at         timestamptz NOT NULL DEFAULT now(),
        cache_hit          boolean,
        PRIMARY KEY (id, created_at)
      ) PARTITION BY RANGE (created_at)`);
    await q.query(
      'CREATE INDEX messages_conversation_idx ON messages (conversation_id, created_at) WHERE conversation_id IS NOT NULL',
    );
    await q.query('CREATE INDEX messages_user_created_idx ON messages (user_id, created_at)');
    await q.query(
      `CREATE INDEX messages_assistant_created_idx ON messages (created_at) WHERE role = 'assistant'`,
    );
    await q.query('CREATE TABLE messages_default PARTITION OF messages DEFAULT');
    const [span] = await q.query(`
      SELECT to_char(date_trunc('month', coalesce(min(created_at), now()) AT TIME ZONE 'UTC'), 'YYYY-MM') AS first,
             to_char(date_trunc('month', now() AT TIME ZONE 'UTC') + interval '2 months', 'YYYY-MM') AS last
        FROM messages_unpartitioned`);
    for (let m: string = span.first; m <= span.last; m = nextMonth(m)) {
      await q.query(
        `CREATE TABLE messages_p${m.replace('-', '')} PARTITION OF messages
           FOR VALUES FROM ('${m}-01 00:00:00+00') TO ('${nextMonth(m)}-01 00:00:00+00')`,
      );
    }
    const columns = `id, conversation_id, user_id, api_key_id, role, content, tool_calls, model,
      upstream, outcome, finish_reason, prompt_tokens, completion_tokens, latency_ms, ttft_ms,
      request_id, created_at, cache_hit`;
    await q.query(
      `INSERT INTO messages (${columns}) SELECT ${columns} FROM messages_unpartitioned`,
    );
    await q.query('DROP TABLE messages_unpartitioned');

    await q.query(`
      ALTER TABLE feedback ADD CONSTRAINT feedback_message_fkey
        FOREIGN KEY (message_id, message_created_at) REFERENCES messages (id, created_at)
        ON DELETE CASCADE`);
    await q.query(`
      CREATE FUNCTION feedback_message_created_at() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.message_created_at IS NULL THEN
          SELECT created_at INTO NEW.message_created_at FROM messages WHERE id = NEW.message_id;
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER feedback_message_created_at BEFORE INSERT ON feedback
        FOR EACH ROW EXECUTE FUNCTION feedback_message_created_at()`);
  }

  async down(): Promise<void> {
    throw new Error('MessagesPartitions1764720000001 cannot be undone: restore from a backup');
  }
}

/** The month after `YYYY-MM`. */
function nextMonth(m: string): string {
  const [y, mo] = m.split('-').map(Number) as [number, number];
  return mo === 12 ? `${y + 1}-01` : `${y}-${String(mo + 1).padStart(2, '0')}`;
}
