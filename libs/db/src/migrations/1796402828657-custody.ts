import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The audit records no role but the owner (and roles granted it: enclave_audit) may change. */
const GUARDED = ['audit_events', 'audit_seal_queue', 'audit_chain', 'audit_checkpoints'];

/**
 * Custody of the audit evidence (docs/audit.md, "Database roles"):
 *
 * - A trigger on the audit records refuses UPDATE, DELETE and TRUNCATE unless the current role is
 *   (a member of) the table's owner: the owner runs migrations, and enclave_audit, granted the
 *   owner, seals, prunes and drops partitions. chat and admin append only.
 * - `enclave_audit_redact_user(user)`: the erasure of a user's audit payloads, the one change to
 *   audit records the admin app makes, as a SECURITY DEFINER function owned by the owner, so the
 *   admin role can erase (never held events, only to the redaction marker) without UPDATE rights.
 * - `enclave_grant_app_roles()`: the grants of enclave_chat and enclave_admin when those roles
 *   exist; `enclave db create-roles` and every migration run call it again, so tables added later
 *   are granted too.
 * - Checkpoints are keyed by their key as well: a key rotation signs the same head at the same
 *   instant with the old and the new key.
 * - `audit_export_files`: export files in chunks, so any host's admin app serves a download.
 */
export class Custody1796402828657 implements MigrationInterface {
  name = 'Custody1796402828657';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE audit_checkpoints
        DROP CONSTRAINT audit_checkpoints_pkey,
        ADD PRIMARY KEY (pos, signed_at, key_id)`);

    await q.query(`
      CREATE TABLE audit_export_files (
        export_id  uuid NOT NULL REFERENCES audit_exports (id) ON DELETE CASCADE,
        file       text NOT NULL CHECK (file IN ('data', 'manifest', 'links')),
        seq        integer NOT NULL CHECK (seq >= 0),
        bytes      bytea NOT NULL,
        PRIMARY KEY (export_id, file, seq)
      )`);

    await q.query(`
      CREATE FUNCTION enclave_audit_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- Partitions (created by retention) answer to the owner of the partitioned table.
        IF pg_has_role(current_user,
                       (SELECT relowner FROM pg_class
                         WHERE oid = coalesce(pg_partition_root(TG_RELID), TG_RELID)),
                       'MEMBER') THEN
          IF TG_LEVEL = 'STATEMENT' THEN RETURN NULL; END IF;
          RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
        END IF;
        RAISE EXCEPTION 'audit records are append-only: % on % refused for role %',
                        TG_OP, TG_TABLE_NAME, current_user
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'only the audit app''s role (enclave_audit) seals, prunes and erases';
      END $$`);
    for (const table of GUARDED) {
      // Per row on audit_events, so its partitions get the trigger too (a row trigger is cloned
      // to every partition, also those made later); per statement on the others, which the
      // sealer deletes from or updates thousands of rows at a time.
      const each = table === 'audit_events' ? 'ROW' : 'STATEMENT';
      await q.query(`
        CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
          FOR EACH ${each} EXECUTE FUNCTION enclave_audit_guard()`);
      await q.query(`
        CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
          FOR EACH STATEMENT EXECUTE FUNCTION enclave_audit_guard()`);
    }

    // The same events and holds as libs/audit audit-erasure.ts (USER_EVENTS, EVENT_HELD).
    await q.query(`
      CREATE FUNCTION enclave_audit_redact_user(p_user uuid) RETURNS integer
        LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
        WITH erased AS (
          UPDATE audit_events e
             SET payload = '{"redacted":true}'::json, payload_salt = NULL, redacted_at = now()
           WHERE (e.actor_id = p_user
                  OR (e.target_type = 'user' AND e.target_id = p_user::text)
                  OR e.payload -> 'owner' ->> 'id' = p_user::text)
             AND e.action <> 'audit.erasure.performed'
             AND e.redacted_at IS NULL
             AND NOT EXISTS (
               SELECT 1 FROM audit_legal_holds h
                WHERE h.released_at IS NULL
                  AND (h.user_id IS NULL OR h.user_id = e.actor_id
                       OR (e.target_type = 'user' AND e.target_id = h.user_id::text))
                  AND (h.from_at IS NULL OR e.occurred_at >= h.from_at)
                  AND (h.to_at IS NULL OR e.occurred_at < h.to_at))
          RETURNING 1)
        SELECT count(*)::int FROM erased
      $$`);
    await q.query('REVOKE EXECUTE ON FUNCTION enclave_audit_redact_user(uuid) FROM PUBLIC');

    await q.query(`
      CREATE FUNCTION enclave_grant_app_roles() RETURNS void LANGUAGE plpgsql AS $$
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
          -- Audit events and their queue entries: appended, never changed. Partitions included:
          -- they can be reached by name.
          FOR t IN SELECT unnest(ARRAY['audit_events', 'audit_seal_queue', 'audit_chain',
                                       'audit_checkpoints', 'audit_export_files',
                                       'audit_siem_cursor', 'enclave_migrations']::regclass[])
                   UNION SELECT inhrelid::regclass FROM pg_inherits
                          WHERE inhparent = 'audit_events'::regclass LOOP
            EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %s FROM %I', t, r);
          END LOOP;
          -- Only the audit app seals, checkpoints, stores exports and forwards to the SIEM.
          EXECUTE format('REVOKE INSERT ON audit_chain, audit_checkpoints, audit_export_files,
                          audit_siem_cursor, enclave_migrations FROM %I', r);
        END LOOP;
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'enclave_chat') THEN
          REVOKE INSERT, UPDATE, DELETE ON audit_legal_holds, audit_exports FROM enclave_chat;
        END IF;
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'enclave_admin') THEN
          GRANT EXECUTE ON FUNCTION enclave_audit_redact_user(uuid) TO enclave_admin;
        END IF;
      END $$`);
    await q.query('SELECT enclave_grant_app_roles()');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION enclave_grant_app_roles()');
    await q.query('DROP FUNCTION enclave_audit_redact_user(uuid)');
    for (const table of GUARDED) {
      await q.query(`DROP TRIGGER ${table}_no_truncate ON ${table}`);
      await q.query(`DROP TRIGGER ${table}_append_only ON ${table}`);
    }
    await q.query('DROP FUNCTION enclave_audit_guard()');
    await q.query('DROP TABLE audit_export_files');
    await q.query(`
      ALTER TABLE audit_checkpoints
        DROP CONSTRAINT audit_checkpoints_pkey,
        ADD PRIMARY KEY (pos, signed_at)`);
  }
}
