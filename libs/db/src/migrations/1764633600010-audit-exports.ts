import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Audit exports requested through the admin API. The admin app inserts a pending row; the audit
 * app (which holds the signing key) claims it, writes the files into AUDIT_EXPORT_DIR and records
 * the outcome. `file_name` is the base name of the files (`<name>.<format>`, `.links.jsonl`,
 * `.manifest.json`).
 */
export class AuditExports1764633600010 implements MigrationInterface {
  name = 'AuditExports1764633600010';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_exports (
        id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        status            text NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'running', 'done', 'failed')),
        format            text NOT NULL CHECK (format IN ('jsonl', 'csv')),
        filter            jsonb NOT NULL,
        created_by        uuid REFERENCES users (id) ON DELETE SET NULL,
        created_by_label  text NOT NULL,
        file_name         text NOT NULL UNIQUE,
        events            integer,
        data_sha256       text,
        error             text,
        created_at        timestamptz NOT NULL DEFAULT now(),
        started_at        timestamptz,
        finished_at       timestamptz
      )`);
    await q.query(
      `CREATE INDEX audit_exports_pending_idx ON audit_exports (created_at) WHERE status IN ('pending', 'running')`,
    );
    await q.query('CREATE INDEX audit_exports_recent_idx ON audit_exports (created_at DESC, id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit_exports');
  }
}
