import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Verifications of the whole chain asked for in the console, run as jobs like exports: the admin
 * app inserts a pending row; an audit app instance claims it, walks the chain (minutes at millions
 * of events, on its own event loop rather than the admin API's), writes its progress and
 * heartbeat while it runs, and records the verdict. `enclave_grant_app_roles()` is replaced to keep
 * the chat role from writing these rows, as it already cannot write audit_exports.
 */
export class AuditVerifications1796450000000 implements MigrationInterface {
  name = 'AuditVerifications1796450000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_verifications (
        id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        status            text NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'running', 'done', 'failed')),
        created_by        uuid REFERENCES users (id) ON DELETE SET NULL,
        created_by_label  text NOT NULL,
        created_at        timestamptz NOT NULL DEFAULT now(),
        started_at        timestamptz,
        heartbeat_at      timestamptz,
        finished_at       timestamptz,
        positions_checked    bigint NOT NULL DEFAULT 0,
        verdict           jsonb,
        error             text
      )`);
    await q.query(
      `CREATE INDEX audit_verifications_open_idx ON audit_verifications (created_at) WHERE status IN ('pending', 'running')`,
    );
    await q.query(
      'CREATE INDEX audit_verifications_recent_idx ON audit_verifications (created_at DESC, id)',
    );
    await q.query(grantFunction(['audit_legal_holds', 'audit_exports', 'audit_verifications']));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(grantFunction(['audit_legal_holds', 'audit_exports']));
    await q.query('DROP TABLE audit_verifications');
  }
}

/** `enclave_grant_app_roles()` as the custody migration made it, with the chat role kept off `chatReadOnly`. */
function grantFunction(chatReadOnly: string[]): string {
  return `
    CREATE OR REPLACE FUNCTION enclave_grant_app_roles() RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
      r text;
      t regclass;
      s text := quote_ident(current_schema());
    BEGIN
      FOREACH r IN ARRAY ARRAY['enclave_chat', 'enclave_admin'] LOOP
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r);
        EXECUTE format('GRANT USAGE ON SCHEMA %s TO %I', s, r);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %s TO %I', s, r);
        EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %s TO %I', s, r);
        FOR t IN SELECT unnest(ARRAY['audit_events', 'audit_seal_queue', 'audit_chain',
                                     'audit_checkpoints', 'audit_export_files',
                                     'audit_siem_cursor', 'enclave_migrations']::regclass[])
                 UNION SELECT inhrelid::regclass FROM pg_inherits
                        WHERE inhparent = 'audit_events'::regclass LOOP
          EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %s FROM %I', t, r);
        END LOOP;
        EXECUTE format('REVOKE INSERT ON audit_chain, audit_checkpoints, audit_export_files,
                        audit_siem_cursor, enclave_migrations FROM %I', r);
      END LOOP;
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'enclave_chat') THEN
        REVOKE INSERT, UPDATE, DELETE ON ${chatReadOnly.join(', ')} FROM enclave_chat;
      END IF;
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'enclave_admin') THEN
        GRANT EXECUTE ON FUNCTION enclave_audit_redact_user(uuid) TO enclave_admin;
      END IF;
    END $$`;
}
