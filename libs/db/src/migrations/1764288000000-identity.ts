import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Users, their login sessions and API keys (libs/auth). Secrets are stored only as hashes. */
export class Identity1764288000000 implements MigrationInterface {
  name = 'Identity1764288000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email           text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
        display_name    text,
        role            text NOT NULL CHECK (role IN ('user', 'auditor', 'admin')),
        password_hash   text,
        failed_logins   integer NOT NULL DEFAULT 0,
        locked_until    timestamptz,
        disabled_at     timestamptz,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE UNIQUE INDEX users_email_key ON users (email)');
    await q.query(`
      CREATE TABLE sessions (
        token_hash    bytea PRIMARY KEY,
        user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        csrf_token    text NOT NULL,
        ip            text,
        user_agent    text,
        created_at    timestamptz NOT NULL DEFAULT now(),
        last_seen_at  timestamptz NOT NULL DEFAULT now(),
        expires_at    timestamptz NOT NULL
      )`);
    await q.query('CREATE INDEX sessions_user_id_idx ON sessions (user_id)');
    await q.query(`
      CREATE TABLE api_keys (
        id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        name          text NOT NULL,
        prefix        text NOT NULL UNIQUE,
        secret_hash   bytea NOT NULL,
        models        text[],
        expires_at    timestamptz,
        revoked_at    timestamptz,
        last_used_at  timestamptz,
        created_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX api_keys_user_id_idx ON api_keys (user_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE api_keys');
    await q.query('DROP TABLE sessions');
    await q.query('DROP TABLE users');
  }
}
