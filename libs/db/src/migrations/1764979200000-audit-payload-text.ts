import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Audit payloads are kept as `json` (text, as written) instead of `jsonb`, so the column holds
 * the very canonical JSON text the payload hash was made of (libs/audit: AuditLog.append). An
 * export or a verifier can then hash the stored bytes as they are, where jsonb's own text form
 * (its key order, spaces) had to be parsed and canonicalised for every event first. Payloads
 * stored before keep jsonb's text form: they still verify, through that slower path. `json`
 * keeps the operators the queries use (`->`, `->>`). Rewrites the partitions once.
 */
export class AuditPayloadText1764979200000 implements MigrationInterface {
  name = 'AuditPayloadText1764979200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE audit_events
        ALTER COLUMN payload DROP DEFAULT,
        ALTER COLUMN payload TYPE json USING payload::json,
        ALTER COLUMN payload SET DEFAULT '{}'::json`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE audit_events
        ALTER COLUMN payload DROP DEFAULT,
        ALTER COLUMN payload TYPE jsonb USING payload::jsonb,
        ALTER COLUMN payload SET DEFAULT '{}'::jsonb`);
  }
}
