import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Where SIEM forwarding stands: per receiver (the AUDIT_SIEM_URL it was configured with), the
 * last chain position the receiver is known to have. The audit app's forwarder resumes after it,
 * so a restart or an outage of the receiver loses nothing (and may send a few events twice).
 */
export class AuditSiemCursor1764806400000 implements MigrationInterface {
  name = 'AuditSiemCursor1764806400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_siem_cursor (
        receiver    text PRIMARY KEY,
        pos         bigint NOT NULL DEFAULT 0 CHECK (pos >= 0),
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit_siem_cursor');
  }
}
