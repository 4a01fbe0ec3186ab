import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retention and privacy for the audit trail (docs/audit.md "Retention, legal hold, erasure"):
 *
 * - `audit_legal_holds`: holds by user and/or time range; held events are never pruned or erased.
 * - `audit_events` becomes a table partitioned by month of `occurred_at`, so retention drops a
 *   whole month once every row in it is past retention, instead of a mass DELETE. The primary key
 *   must include the partition key, so it becomes (id, occurred_at); ids still come from one
 *   sequence and stay unique. A DEFAULT partition catches rows outside the monthly partitions
 *   (the audit app creates months ahead; a missed run never makes an append fail).
 *
 * Existing rows are copied with their ids, salts and hashes unchanged, so the sealed chain (which
 * has no foreign key to the events) verifies exactly as before.
 */
export class AuditRetention1764720000000 implements MigrationInterface {
  name = 'AuditRetention1764720000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_legal_holds (
        id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id      uuid,
        from_at      timestamptz,
        to_at        timestamptz,
        reason       text NOT NULL CHECK (length(reason) >= 5),
        created_by   uuid,
        created_at   timestamptz NOT NULL DEFAULT now(),
        released_at  timestamptz,
        released_by  uuid,
        CHECK (user_id IS NOT NULL OR from_at IS NOT NULL OR to_at IS NOT NULL),
        CHECK (from_at IS NULL OR to_at IS NULL OR from_at < to_at)
      )`);
    await q.query(
      'CREATE INDEX audit_legal_holds_active_idx ON audit_legal_holds (user_id) WHERE released_at IS NULL',
    );

    await q.query('ALTER TABLE audit_events RENAME TO audit_events_unpartitioned');
    for (const idx of ['occurred_at', 'actor', 'action'])
      await q.query(
        `ALTER INDEX audit_events_${idx}_idx RENAME TO audit_events_unpartitioned_${idx}_idx`,
      );
    await q.query('CREATE SEQUENCE audit_events_seq AS bigint');
    await q.query(`
      CREATE TABLE audit_events (
        id           bigint NOT NULL DEFAULT nextval('audit_events_seq'),
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
        payload      jsonb NOT NULL DEFAULT '{}'::jsonb,
        payload_salt bytea,
        payload_hash bytea,
        redacted_at  timestamptz,
        PRIMARY KEY (id, occurred_at)
      ) PARTITION BY RANGE (occurred_at)`);
    await q.query('ALTER SEQUENCE audit_events_seq OWNED BY audit_events.id');
    await q.query('CREATE INDEX audit_events_occurred_at_idx ON audit_events (occurred_at)');
    await q.query('CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, occurred_at)');
    await q.query('CREATE INDEX audit_events_action_idx ON audit_events (action, occurred_at)');
    // Erasure finds a user's events as the subject (target) too.
    await q.query(
      `CREATE INDEX audit_events_user_target_idx ON audit_events (target_id) WHERE target_type = 'user'`,
    );
    await q.query('CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT');

    // One partition per month (UTC) from the oldest event's month to two months ahead.
    const [span] = await q.query(`
      SELECT to_char(date_trunc('month', coalesce(min(occurred_at), now()) AT TIME ZONE 'UTC'), 'YYYY-MM') AS first,
             to_char(date_trunc('month', now() AT TIME ZONE 'UTC') + interval '2 months', 'YYYY-MM') AS last
        FROM audit_events_unpartitioned`);
    for (let m: string = span.first; m <= span.last; m = nextMonth(m)) {
      await q.query(
        `CREATE TABLE audit_events_p${m.replace('-', '')} PARTITION OF audit_events
           FOR VALUES FROM ('${m}-01 00:00:00+00') TO ('${nextMonth(m)}-01 00:00:00+00')`,
      );
    }
    await q.query(`
      INSERT INTO audit_events
        (id, occurred_at, actor_type, actor_id, actor_label, action, target_type, target_id,
         outcome, source_ip, user_agent, request_id, payload, payload_salt, payload_hash, redacted_at)
      SELECT id, occurred_at, actor_type, actor_id, actor_label, action, target_type, target_id,
             outcome, source_ip, user_agent, request_id, payload, payload_salt, payload_hash, redacted_at
        FROM audit_events_unpartitioned`);
    // Continue after every id handed out so far (also those of rolled-back appends).
    const [{ seq }] = await q.query(
      `SELECT pg_get_serial_sequence('audit_events_unpartitioned', 'id') AS seq`,
    );
    const [{ last }] = await q.query(
      `SELECT greatest((SELECT coalesce(max(id), 0) FROM audit_events_unpartitioned),
                       ${seq ? `(SELECT last_value FROM ${seq})` : '0'}, 1)::text AS last`,
    );
    await q.query(`SELECT setval('audit_events_seq', $1::bigint)`, [last]);
    await q.query('DROP TABLE audit_events_unpartitioned');
  }

  async down(): Promise<void> {
    throw new Error('AuditRetention1764720000000 cannot be undone: restore from a backup');
  }
}

/** The month after `YYYY-MM`. */
function nextMonth(m: string): string {
  const [y, mo] = m.split('-').map(Number) as [number, number];
  return mo === 12 ? `${y + 1}-01` : `${y}-${String(mo + 1).padStart(2, '0')}`;
}
