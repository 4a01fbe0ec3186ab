import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit hash chain (libs/audit, docs/audit.md). Events keep their columns; each gets a salted
 * SHA-256 of its payload (so the payload can later be erased without breaking the chain) and a
 * row in the seal queue, committed with it. The sealer (the audit app) moves queued events into
 * `audit_chain`, an append-only list of links, and signs checkpoints of its head.
 */
export class AuditChain1764374400000 implements MigrationInterface {
  name = 'AuditChain1764374400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE audit_events
        ADD COLUMN payload_salt bytea,
        ADD COLUMN payload_hash bytea,
        ADD COLUMN redacted_at  timestamptz`);
    // Committed with the event in AuditLog.append; the sealer deletes the row when it seals it,
    // so an event that commits late is simply found later, never skipped.
    await q.query(`
      CREATE TABLE audit_seal_queue (
        event_id   bigint PRIMARY KEY,
        queued_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('INSERT INTO audit_seal_queue (event_id) SELECT id FROM audit_events');
    // No foreign key to audit_events: a link outlives its event when retention removes it.
    await q.query(`
      CREATE TABLE audit_chain (
        pos         bigint PRIMARY KEY CHECK (pos > 0),
        event_id    bigint NOT NULL UNIQUE,
        leaf_hash   bytea NOT NULL CHECK (length(leaf_hash) = 32),
        hash        bytea NOT NULL CHECK (length(hash) = 32),
        sealed_at   timestamptz NOT NULL DEFAULT now(),
        pruned_at   timestamptz
      )`);
    await q.query(`
      CREATE TABLE audit_checkpoints (
        pos         bigint NOT NULL CHECK (pos >= 0),
        hash        bytea NOT NULL CHECK (length(hash) = 32),
        signed_at   text NOT NULL,
        key_id      text NOT NULL,
        signature   text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (pos, signed_at)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit_checkpoints');
    await q.query('DROP TABLE audit_chain');
    await q.query('DROP TABLE audit_seal_queue');
    await q.query(`
      ALTER TABLE audit_events
        DROP COLUMN redacted_at, DROP COLUMN payload_hash, DROP COLUMN payload_salt`);
  }
}
