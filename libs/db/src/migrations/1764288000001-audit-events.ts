import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Audit events, appended in the transaction of the change they record (libs/audit). The hash
 * chain that makes them tamper-evident is added by a later migration.
 */
export class AuditEvents1764288000001 implements MigrationInterface {
  name = 'AuditEvents1764288000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_events (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        occurred_at  timestamptz NOT NULL DEFAULT now(),
        actor_type   text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'system', 'anonymous')),
        actor_id     uuid,
        actor_label  text,
        action       text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$'),
        target_type  text,
        target_id    text,
        outcome      text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied', 'partial')),
        source_ip    text,
        user_agent   text,
        request_id   text,
        payload      jsonb NOT NULL DEFAULT '{}'::jsonb
      )`);
    await q.query('CREATE INDEX audit_events_occurred_at_idx ON audit_events (occurred_at)');
    await q.query('CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, occurred_at)');
    await q.query('CREATE INDEX audit_events_action_idx ON audit_events (action, occurred_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit_events');
  }
}
