import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rate limits and token quotas (libs/policy), counted in Postgres so that every chat instance
 * sees the same numbers without Redis; and token usage per user, key, model and day.
 */
export class Policy1764460800010 implements MigrationInterface {
  name = 'Policy1764460800010';

  async up(q: QueryRunner): Promise<void> {
    // scope 'default' (subject_id NULL) applies to every user and every key without their own.
    await q.query(`
      CREATE TABLE quotas (
        scope                text NOT NULL CHECK (scope IN ('default_user', 'default_key', 'user', 'api_key')),
        subject_id           uuid NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000',
        requests_per_minute  integer CHECK (requests_per_minute > 0),
        tokens_per_day       bigint CHECK (tokens_per_day > 0),
        tokens_per_month     bigint CHECK (tokens_per_month > 0),
        updated_at           timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (scope, subject_id)
      )`);
    // Fixed windows: 'u:<id>:m:<minute>' request counts, 'k:<id>:d:<day>' token counts, etc.
    await q.query(`
      CREATE TABLE policy_counters (
        counter     text PRIMARY KEY,
        value       bigint NOT NULL,
        expires_at  timestamptz NOT NULL
      )`);
    await q.query('CREATE INDEX policy_counters_expires_idx ON policy_counters (expires_at)');
    await q.query(`
      CREATE TABLE usage_daily (
        day                date NOT NULL,
        user_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        api_key_id         uuid NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000',
        model              text NOT NULL,
        requests           bigint NOT NULL DEFAULT 0,
        prompt_tokens      bigint NOT NULL DEFAULT 0,
        completion_tokens  bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (day, user_id, api_key_id, model)
      )`);
    await q.query('CREATE INDEX usage_daily_user_idx ON usage_daily (user_id, day)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE usage_daily');
    await q.query('DROP TABLE policy_counters');
    await q.query('DROP TABLE quotas');
  }
}
