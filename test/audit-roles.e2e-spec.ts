import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { AuditLog } from '@enclave/audit';
import {
  AuditSealer,
  generateSigningKey,
  verifyDatabaseChain,
  type SigningKey,
} from '@enclave/audit-chain';
import { type AppRole, createAppRoles, dataSourceOptions, runMigrations, sqlOf } from '@enclave/db';
import { applyRetention, eraseUser } from '@enclave/privacy';
import { testConfig } from './support/config.js';
import { ADMIN_URL, adminQuery } from './support/postgres.js';

// The app roles on a real database owned by its own (non-superuser) owner role, as an install
// makes it: chat and admin append audit events and can change none; the audit role seals and
// applies retention; the admin role erases only through the redaction function.
Logger.overrideLogger(false);

const suffix = randomBytes(5).toString('hex');
const owner = `enclave_owner_${suffix}`;
// The server may require passwords (scram-sha-256), so the owner role has one of its own.
const ownerPassword = randomBytes(12).toString('hex');
const dbName = `enclave_test_roles_${suffix}`;
let ownerUrl: string;
let roles: Record<string, AppRole>;
let ownerDs: DataSource;
let chatDs: DataSource;
let adminDs: DataSource;
let keyDir: string;
let key: SigningKey;

function open(url: string): Promise<DataSource> {
  return new DataSource(dataSourceOptions(testConfig({ DATABASE_URL: url }), 'test')).initialize();
}

async function rejection(work: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await work;
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected the statement to be refused');
}

async function appendAs(ds: DataSource, action: string, actorId: string | null = null) {
  await ds.transaction((m) =>
    new AuditLog().append(m, {
      actor: { type: actorId ? 'user' : 'system', id: actorId, label: 'jest' },
      action,
      target: null,
      outcome: 'success',
      payload: { secret: 'x' },
    }),
  );
}

async function sealAs(url: string): Promise<number> {
  const sealer = new AuditSealer({
    databaseUrl: url,
    signingKey: key,
    checkpointEvery: 2,
    checkpointSeconds: 3_600,
    intervalMs: 10,
    unsealedAlertSeconds: 60,
    log: { info: () => {}, warn: () => {}, error: () => {} },
  });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let total = 0;
  try {
    for (let n = await sealer.sealBatch(client); n > 0; n = await sealer.sealBatch(client)) {
      total += n;
    }
  } finally {
    await client.end();
  }
  return total;
}

beforeAll(async () => {
  await adminQuery(`CREATE ROLE ${owner} LOGIN CREATEROLE PASSWORD '${ownerPassword}'`);
  await adminQuery(`CREATE DATABASE ${dbName} OWNER ${owner}`);
  const url = new URL(ADMIN_URL);
  url.username = owner;
  url.password = ownerPassword;
  url.pathname = `/${dbName}`;
  ownerUrl = url.toString();
  ownerDs = await open(ownerUrl);
  await runMigrations(ownerDs);
  // The roles are made by a superuser: since PostgreSQL 16 the owner may not grant itself to the
  // audit role (with 15 the owner with CREATEROLE may do it all).
  const superUrl = new URL(ADMIN_URL);
  superUrl.pathname = `/${dbName}`;
  const client = new pg.Client({ connectionString: superUrl.toString() });
  await client.connect();
  try {
    await createAppRoles(client, superUrl.toString());
    // Again: the roles exist now; they get new passwords (the ones used below) and the same grants.
    const made = await createAppRoles(client, superUrl.toString());
    expect(made.map((r) => [r.role, r.created])).toEqual([
      ['enclave_chat', false],
      ['enclave_admin', false],
      ['enclave_audit', false],
    ]);
    roles = Object.fromEntries(made.map((r) => [r.app, r]));
  } finally {
    await client.end();
  }
  chatDs = await open(roles.chat!.url);
  adminDs = await open(roles.admin!.url);
  keyDir = mkdtempSync(join(tmpdir(), 'enclave-roles-'));
  key = generateSigningKey(join(keyDir, 'signing-key.pem'));
});

afterAll(async () => {
  for (const ds of [chatDs, adminDs, ownerDs]) await ds?.destroy();
  await adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await adminQuery(`DROP ROLE IF EXISTS ${owner}`);
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

describe('database roles of the apps', () => {
  it('the chat role appends audit events but may not update, delete or truncate them', async () => {
    await appendAs(chatDs, 'chat.completion');
    for (const sql of [
      `UPDATE audit_events SET outcome = 'failure'`,
      'DELETE FROM audit_events',
      'TRUNCATE audit_events',
      'DELETE FROM audit_seal_queue',
      'UPDATE audit_chain SET pruned_at = now()',
      `INSERT INTO audit_checkpoints (pos, hash, signed_at, key_id, signature)
         VALUES (0, decode(repeat('00', 32), 'hex'), 'x', 'k', 's')`,
      // Verifications and exports are asked for in the console (admin) and run by the audit app.
      `INSERT INTO audit_verifications (created_by_label) VALUES ('chat')`,
      `UPDATE audit_exports SET status = 'failed'`,
    ]) {
      const err = await rejection(chatDs.query(sql));
      expect({ sql, code: err.code, message: err.message }).toMatchObject({
        code: '42501',
        message: expect.stringMatching(/permission denied/),
      });
    }
    const [{ n }] = await ownerDs.query(
      `SELECT count(*)::int AS n FROM audit_events WHERE action = 'chat.completion'`,
    );
    expect(n).toBe(1);
  });

  it('the trigger refuses a change even when a grant would allow it', async () => {
    await ownerDs.query('GRANT UPDATE, DELETE, TRUNCATE ON audit_events TO enclave_chat');
    try {
      const update = await rejection(chatDs.query(`UPDATE audit_events SET outcome = 'failure'`));
      expect(update).toMatchObject({
        code: '42501',
        message: expect.stringMatching(/append-only/),
      });
      const truncate = await rejection(chatDs.query('TRUNCATE audit_events'));
      expect(truncate.code).toBe('42501');
    } finally {
      await ownerDs.query('REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM enclave_chat');
    }
  });

  it('the admin role erases a user through the redaction function, and cannot update otherwise', async () => {
    const [user] = await adminDs.query(
      `INSERT INTO users (email, role) VALUES ('erase-me@example.com', 'user') RETURNING id`,
    );
    await appendAs(adminDs, 'auth.login.succeeded', user.id);
    const result = await adminDs.transaction((m) =>
      eraseUser(m, user.id, 'right to erasure', { type: 'system', id: null, label: 'jest' }),
    );
    expect(result.auditEvents).toBe(1);
    const [row] = await ownerDs.query(
      `SELECT payload::text AS payload, payload_salt FROM audit_events WHERE actor_id = $1`,
      [user.id],
    );
    expect(row).toEqual({ payload: '{"redacted":true}', payload_salt: null });
    const err = await rejection(adminDs.query(`UPDATE audit_events SET payload = '{}'::json`));
    expect(err.code).toBe('42501');
  });

  it('the audit role seals and applies retention; the chain verifies; partitions stay the owner’s', async () => {
    expect(await sealAs(roles.audit!.url)).toBeGreaterThanOrEqual(3);
    const v = await verifyDatabaseChain(sqlOf(ownerDs), key.publicKey);
    expect(v.problems).toEqual([]);
    expect(v).toMatchObject({ ok: true, unsealed: 0 });
    expect(v.checkpoints).toBeGreaterThan(0);
    expect(v.redacted).toBe(1);

    const auditDs = await open(roles.audit!.url);
    try {
      const later = new Date(Date.now() + 200 * 86_400_000);
      // 200 days on, with 30 days' retention: every event goes (rows deleted, partitions dropped).
      const r = await applyRetention(
        auditDs,
        { audit: { default: 30, byKind: {} }, messageDays: null },
        later,
        { monthsAhead: 1 },
      );
      expect(r.ran).toBe(true);
      expect(r.partitionsCreated.length).toBeGreaterThan(0);
      expect(r.auditEventsPruned).toBeGreaterThanOrEqual(3);
    } finally {
      await auditDs.destroy();
    }
    const owners: { owner: string }[] = await ownerDs.query(
      `SELECT DISTINCT tableowner AS owner FROM pg_tables WHERE tablename LIKE 'audit_events_%'`,
    );
    expect(owners).toEqual([{ owner }]);
  });

  it('only the audit role seals: the chat role cannot', async () => {
    await appendAs(chatDs, 'chat.completion');
    const err = await rejection(sealAs(roles.chat!.url));
    expect(err).toMatchObject({ code: '42501' });
  });
});
