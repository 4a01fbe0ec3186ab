import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Teams (issue 20). Groups and their members (libs/auth); which groups may use a model, prices
 * per model, budgets, and usage per request kept apart from the chat data (libs/policy).
 * `usage_events` is the history the console's dashboard and reports read: deleting or erasing
 * conversations never touches it. Each row carries its cost at the price in force when it was
 * written, so a price change never rewrites the past.
 */
export class Teams1796500000000 implements MigrationInterface {
  name = 'Teams1796500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE groups (
        id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name         text NOT NULL,
        description  text,
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE UNIQUE INDEX groups_name_idx ON groups (lower(name))');
    // via: 'manual' (console, API, CLI) or 'sso' (the provider's group claim at sign-in).
    await q.query(`
      CREATE TABLE group_members (
        group_id    uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
        user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        via         text NOT NULL CHECK (via IN ('manual', 'sso')),
        created_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (group_id, user_id)
      )`);
    await q.query('CREATE INDEX group_members_user_idx ON group_members (user_id)');
    // A model (or alias) with no row is open to everyone.
    await q.query(`
      CREATE TABLE model_access (
        model       text NOT NULL,
        group_id    uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
        created_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (model, group_id)
      )`);
    // Every price ever set is kept: the one in force is the latest row of its model.
    await q.query(`
      CREATE TABLE model_prices (
        id                  bigserial PRIMARY KEY,
        model               text NOT NULL,
        input_per_million   numeric(20, 6) NOT NULL CHECK (input_per_million >= 0),
        output_per_million  numeric(20, 6) NOT NULL CHECK (output_per_million >= 0),
        currency            text NOT NULL,
        set_at              timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX model_prices_model_idx ON model_prices (model, id DESC)');
    await q.query(`
      CREATE TABLE budgets (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        scope       text NOT NULL CHECK (scope IN ('group', 'user', 'api_key')),
        subject_id  uuid NOT NULL,
        unit        text NOT NULL CHECK (unit IN ('tokens', 'money')),
        period      text NOT NULL CHECK (period IN ('day', 'month')),
        "limit"     numeric(20, 6) NOT NULL CHECK ("limit" > 0),
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now(),
        UNIQUE (scope, subject_id, unit, period)
      )`);
    // No foreign keys: the history outlives users, keys and groups (ids stay as they were).
    await q.query(`
      CREATE TABLE usage_events (
        id                 bigserial PRIMARY KEY,
        at                 timestamptz NOT NULL DEFAULT now(),
        user_id            uuid NOT NULL,
        api_key_id         uuid,
        group_ids          uuid[] NOT NULL DEFAULT '{}',
        model              text NOT NULL,
        outcome            text NOT NULL,
        cache_hit          boolean,
        prompt_tokens      integer NOT NULL DEFAULT 0,
        completion_tokens  integer NOT NULL DEFAULT 0,
        cost               numeric(20, 6) NOT NULL DEFAULT 0,
        currency           text,
        latency_ms         integer,
        ttft_ms            integer
      )`);
    await q.query('CREATE INDEX usage_events_at_idx ON usage_events (at)');
    await q.query('CREATE INDEX usage_events_user_idx ON usage_events (user_id, at)');
    await q.query('CREATE INDEX usage_events_groups_idx ON usage_events USING gin (group_ids)');
    await q.query('ALTER TABLE usage_daily ADD COLUMN cost numeric(20, 6) NOT NULL DEFAULT 0');
    // The chat and admin roles, when they exist, reach the new tables too.
    await q.query('SELECT enclave_grant_app_roles()');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE usage_daily DROP COLUMN cost');
    await q.query('DROP TABLE usage_events');
    await q.query('DROP TABLE budgets');
    await q.query('DROP TABLE model_prices');
    await q.query('DROP TABLE model_access');
    await q.query('DROP TABLE group_members');
    await q.query('DROP TABLE groups');
  }
}
