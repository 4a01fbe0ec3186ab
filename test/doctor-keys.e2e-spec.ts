import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import {
  AuditChainRepository,
  GENESIS_HASH,
  generateSigningKey,
  Keyring,
  signCheckpoint,
  type SigningKey,
} from '@enclave/audit-chain';
import { dataSourceOptions, runMigrations, sqlOf } from '@enclave/db';
import type { Finding } from '../apps/cli/src/doctor.js';
import { checkSigningKeys } from '../apps/cli/src/doctor-keys.js';
import { testConfig } from './support/config.js';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';

// `enclave doctor`'s key checks against a real database: this host's key in the keyring, and
// every key that signed checkpoints (another audit host's) trusted by it.
let db: TestDatabase;
let ds: DataSource;
let dir: string;
let hostA: SigningKey;
let hostB: SigningKey;
const keyringFile = () => join(dir, 'keyring.json');

function check(findings: Finding[], name: string): Finding {
  const f = findings.find((x) => x.check === name);
  expect(f).toBeDefined();
  return f!;
}

const diagnose = () =>
  checkSigningKeys(
    testConfig({
      DATABASE_URL: db.url,
      AUDIT_SIGNING_KEY_FILE: join(dir, 'a.pem'),
      AUDIT_KEYRING_FILE: keyringFile(),
    }),
  );

beforeAll(async () => {
  db = await createTestDatabase();
  ds = await new DataSource(
    dataSourceOptions(testConfig({ DATABASE_URL: db.url }), 'test'),
  ).initialize();
  await runMigrations(ds);
  dir = mkdtempSync(join(tmpdir(), 'enclave-doctor-keys-'));
  hostA = generateSigningKey(join(dir, 'a.pem'));
  hostB = generateSigningKey(join(dir, 'b.pem'));
  const repo = new AuditChainRepository(sqlOf(ds));
  // Both audit hosts have signed (a failover happened).
  await repo.insertCheckpoint(signCheckpoint(hostA, 0, GENESIS_HASH));
  await repo.insertCheckpoint(signCheckpoint(hostB, 0, GENESIS_HASH));
});

afterAll(async () => {
  await ds?.destroy();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('enclave doctor: the audit keys', () => {
  it('without a keyring: warns, and fails because the other host signed checkpoints', async () => {
    const f = await diagnose();
    expect(check(f, 'audit signing key')).toMatchObject({ verdict: 'ok' });
    expect(check(f, 'audit keyring')).toMatchObject({ verdict: 'warn' });
    expect(check(f, 'audit hosts agree')).toMatchObject({
      verdict: 'fail',
      message: expect.stringContaining(hostB.keyId),
    });
  });

  it("fails when this host's key is not in the keyring", async () => {
    Keyring.ofKey(hostB.publicKey).save(keyringFile());
    const f = await diagnose();
    expect(check(f, 'signing key in keyring')).toMatchObject({
      verdict: 'fail',
      message: expect.stringContaining(hostA.keyId),
      fix: expect.stringContaining('enclave audit keyring add'),
    });
    expect(check(f, 'audit hosts agree').message).toContain(hostA.keyId);
  });

  it('passes when the keyring holds every host’s key', async () => {
    Keyring.ofKey(hostA.publicKey)
      .with({ publicKey: hostB.publicKey, notBefore: null, notAfter: null, label: 'b' })
      .save(keyringFile());
    const f = await diagnose();
    expect(f.filter((x) => x.verdict !== 'ok')).toEqual([]);
    expect(check(f, 'audit hosts agree').message).toContain(hostB.keyId);
  });
});
