import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { AuditLog } from '@enclave/audit';
import { AuditSealer, Keyring, loadSigningKey } from '@enclave/audit-chain';
import { dataSourceOptions } from '@enclave/db';
import { testConfig } from './support/config.js';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';

// The built `enclave` command as an operator runs it for the audit keys: a keyring, a rotation,
// verification of the database and of an export offline with the published keyring.
const CLI = fileURLToPath(new URL('../dist/apps/cli/src/main.js', import.meta.url));

let db: TestDatabase;
let ds: DataSource;
let dir: string;
let env: Record<string, string>;

function enclave(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'silent', ENCLAVE_CONFIG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Appends `n` events and seals them with the key now at the configured path. */
async function appendAndSeal(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await ds.transaction((m) =>
      new AuditLog().append(m, {
        actor: { type: 'system', id: null, label: 'jest' },
        action: 'test.event',
        target: null,
        outcome: 'success',
        payload: { i },
      }),
    );
  }
  const sealer = new AuditSealer({
    databaseUrl: db.url,
    signingKey: loadSigningKey(env.AUDIT_SIGNING_KEY_FILE!),
    checkpointEvery: 2,
    checkpointSeconds: 3_600,
    intervalMs: 10,
    unsealedAlertSeconds: 60,
    log: { info: () => {}, warn: () => {}, error: () => {} },
  });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    while ((await sealer.sealBatch(client)) > 0);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'enclave-cli-keys-'));
  env = {
    DATABASE_URL: db.url,
    AUDIT_SIGNING_KEY_FILE: join(dir, 'signing-key.pem'),
    AUDIT_KEYRING_FILE: join(dir, 'keyring.json'),
  };
  expect(await enclave(['migrate'])).toMatchObject({ code: 0 });
  ds = await new DataSource(
    dataSourceOptions(testConfig({ DATABASE_URL: db.url }), 'test'),
  ).initialize();
});

afterAll(async () => {
  await ds?.destroy();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('enclave audit: keyring and rotation', () => {
  it('publishes the key in a keyring, rotates it, and verifies the database and an export', async () => {
    const keygen = await enclave(['audit', 'keygen']);
    expect(keygen.code).toBe(0);
    writeFileSync(join(dir, 'first.pem'), keygen.stdout);
    const add = await enclave(['audit', 'keyring', 'add', join(dir, 'first.pem'), '--label', 'a']);
    expect(add).toMatchObject({ code: 0, stdout: expect.stringContaining('1 key(s)') });
    await appendAndSeal(5);

    const rotate = await enclave(['audit', 'rotate-key', '--label', 'a2']);
    expect(rotate.stderr).toMatch(/retired and [0-9a-f]{16} in use from/);
    expect(rotate.code).toBe(0);
    expect(rotate.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const list = await enclave(['audit', 'keyring', 'list']);
    expect(list.stdout.trim().split('\n')).toHaveLength(2);
    await appendAndSeal(5);

    const verify = await enclave(['audit', 'verify', '--db']);
    expect(verify.stdout).toMatch(/^audit chain: OK \(10 positions, 10 events/);
    expect(verify.code).toBe(0);

    // The first key alone no longer covers the chain: named, exit 2.
    const old = await enclave(['audit', 'verify', '--db', '--public-key', join(dir, 'first.pem')]);
    expect(old.code).toBe(2);
    expect(old.stdout).toMatch(/TAMPERED: .*key_unknown/);

    const out = join(dir, 'out');
    expect(await enclave(['audit', 'export', '--out', out, '--name', 'x'])).toMatchObject({
      code: 0,
    });
    expect(readdirSync(out).sort()).toEqual(['x.jsonl', 'x.links.jsonl', 'x.manifest.json']);
    const offline = await enclave([
      'audit',
      'verify',
      join(out, 'x.manifest.json'),
      '--keyring',
      env.AUDIT_KEYRING_FILE!,
    ]);
    expect(offline.stdout).toMatch(/^audit export: OK/);
    expect(offline.code).toBe(0);
    expect(Keyring.load(env.AUDIT_KEYRING_FILE!)!.entries.map((e) => e.label)).toEqual(['a', 'a2']);
  });

  it('create-roles refuses tables owned by a superuser, saying what to do', async () => {
    const r = await enclave(['db', 'create-roles']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/owned by the superuser .*create a dedicated owner role/);
  });
});
