import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What days of uptime need from the schema (branch uptime):
 * - Changes that end a credential (a key revoked, expired or re-scoped, a user disabled or
 *   re-roled, a session ended) announce themselves on the `enclave_config` channel as `auth`,
 *   whoever makes them (admin API, CLI, plain SQL), so each process drops its cached keys and
 *   sessions within a second. `last_used_at`/`last_seen_at` writes do not announce anything.
 * - A completion's message names the chat process that serves it (`instance_id`), and
 *   `chat_instances` says when each process was last seen, so a message left `in_progress` by a
 *   process that died can be closed as `interrupted` by any other (or by its successor).
 * - `failed`: a request that reached Enclave but could not be served because the database was
 *   away, recorded later from the process's spool.
 */
export class UptimeRecords1796402736241 implements MigrationInterface {
  name = 'UptimeRecords1796402736241';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION enclave_notify_auth() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('enclave_config', 'auth');
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER api_keys_notify_auth
        AFTER UPDATE OF revoked_at, expires_at, models, secret_hash, user_id OR DELETE ON api_keys
        FOR EACH STATEMENT EXECUTE FUNCTION enclave_notify_auth()`);
    await q.query(`
      CREATE TRIGGER users_notify_auth
        AFTER UPDATE OF email, role, disabled_at OR DELETE ON users
        FOR EACH STATEMENT EXECUTE FUNCTION enclave_notify_auth()`);
    await q.query(`
      CREATE TRIGGER sessions_notify_auth
        AFTER UPDATE OF expires_at, user_id, csrf_token OR DELETE ON sessions
        FOR EACH STATEMENT EXECUTE FUNCTION enclave_notify_auth()`);

    await q.query(`
      CREATE TABLE chat_instances (
        id          uuid PRIMARY KEY,
        name        text NOT NULL,
        pid         integer NOT NULL,
        started_at  timestamptz NOT NULL DEFAULT now(),
        seen_at     timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX chat_instances_name_idx ON chat_instances (name)');
    await q.query('ALTER TABLE messages ADD COLUMN instance_id uuid');
    await q.query(
      `CREATE INDEX messages_in_progress_idx ON messages (created_at) WHERE outcome = 'in_progress'`,
    );
    // The partitioning migration left the check under a generated name: drop it by what it is.
    await q.query(`
      DO $$
      DECLARE c record;
      BEGIN
        FOR c IN SELECT conname FROM pg_constraint
                  WHERE conrelid = 'messages'::regclass AND contype = 'c'
                    AND pg_get_constraintdef(oid) LIKE '%outcome%'
        LOOP
          EXECUTE format('ALTER TABLE messages DROP CONSTRAINT %I', c.conname);
        END LOOP;
      END $$`);
    await q.query(`
      ALTER TABLE messages ADD CONSTRAINT messages_outcome_check CHECK (outcome IN
        ('in_progress', 'completed', 'client_disconnected', 'upstream_error', 'interrupted', 'failed'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE messages DROP CONSTRAINT messages_outcome_check');
    await q.query(`
      ALTER TABLE messages ADD CONSTRAINT messages_outcome_check CHECK (outcome IN
        ('in_progress', 'completed', 'client_disconnected', 'upstream_error'))`);
    await q.query('DROP INDEX messages_in_progress_idx');
    await q.query('ALTER TABLE messages DROP COLUMN instance_id');
    await q.query('DROP TABLE chat_instances');
    await q.query('DROP TRIGGER sessions_notify_auth ON sessions');
    await q.query('DROP TRIGGER users_notify_auth ON users');
    await q.query('DROP TRIGGER api_keys_notify_auth ON api_keys');
    await q.query('DROP FUNCTION enclave_notify_auth()');
  }
}
