import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import {
  AuditChainRepository,
  AuditSealer,
  generateSigningKey,
  Keyring,
  KeyRotationRefused,
  loadSigningKey,
  rotateSigningKey,
  signCheckpoint,
  type SigningKey,
  verifyDatabaseChain,
  verifyExport,
  writeExport,
} from '@enclave/audit-chain';
import { sqlOf } from '@enclave/db';
import type { TestDatabase } from '../../../test/support/postgres.js';
import { appendEvents, migratedDatabase, quietLog } from './chain-fixture.js';

// Two audit hosts, each with its own signing key, share one published keyring: the chain they
// seal in turn (failover) verifies, and so does it after a key rotation, in the database and
// offline from an export.
let db: TestDatabase;
let ds: DataSource;
let dir: string;
let keyringFile: string;
let hostA: { key: SigningKey; path: string };
let hostB: { key: SigningKey; path: string };
let appended = 0;

function sealer(key: SigningKey): AuditSealer {
  return new AuditSealer({
    databaseUrl: db.url,
    signingKey: key,
    checkpointEvery: 5,
    checkpointSeconds: 3_600,
    intervalMs: 20,
    unsealedAlertSeconds: 60,
    log: quietLog,
  });
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function append(n: number): Promise<void> {
  await appendEvents(ds, appended, n);
  appended += n;
}

async function allSealed(): Promise<void> {
  await until('every event sealed', async () => {
    const [row] = await ds.query('SELECT count(*)::int AS n FROM audit_seal_queue');
    return row.n === 0;
  });
}

async function checkpointKeys(): Promise<string[]> {
  const rows: { keyId: string }[] = await ds.query(
    'SELECT DISTINCT key_id AS "keyId" FROM audit_checkpoints ORDER BY 1',
  );
  return rows.map((r) => r.keyId);
}

async function withClient<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  ({ db, ds } = await migratedDatabase());
  dir = mkdtempSync(join(tmpdir(), 'enclave-keyring-'));
  keyringFile = join(dir, 'keyring.json');
  hostA = { path: join(dir, 'a', 'signing-key.pem'), key: null! };
  hostA.key = generateSigningKey(hostA.path);
  hostB = { path: join(dir, 'b', 'signing-key.pem'), key: null! };
  hostB.key = generateSigningKey(hostB.path);
  Keyring.ofKey(hostA.key.publicKey)
    .with({ publicKey: hostB.key.publicKey, notBefore: null, notAfter: null, label: 'host b' })
    .save(keyringFile);
});

afterAll(async () => {
  await ds?.destroy();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a keyring shared by two audit hosts', () => {
  it('the standby takes over when the active sealer stops; the chain verifies with the keyring', async () => {
    const a = sealer(hostA.key);
    const b = sealer(hostB.key);
    a.start();
    await until('host a active', async () => a.status.active);
    b.start();
    await append(12);
    await allSealed();
    expect(b.status.active).toBe(false);
    await a.stop();
    await until('host b active', async () => b.status.active);
    await append(12);
    await allSealed();
    await b.stop();

    expect(await checkpointKeys()).toEqual([hostA.key.keyId, hostB.key.keyId].sort());
    const keyring = Keyring.load(keyringFile)!;
    const v = await verifyDatabaseChain(sqlOf(ds), keyring);
    expect(v.problems).toEqual([]);
    expect(v).toMatchObject({ ok: true, events: 24, unsealed: 0 });

    // One host's key alone (the single-key verification of before) does not trust the other's.
    const single = await verifyDatabaseChain(sqlOf(ds), hostA.key.publicKey);
    expect(single.ok).toBe(false);
    expect(new Set(single.problems.map((p) => p.kind))).toEqual(new Set(['key_unknown']));
  });

  it('rotate-key is refused while a sealer holds the lock', async () => {
    const a = sealer(hostA.key);
    a.start();
    await until('host a active', async () => a.status.active);
    try {
      await expect(
        withClient((client) => rotateSigningKey({ client, keyFile: hostA.path, keyringFile })),
      ).rejects.toThrow(KeyRotationRefused);
    } finally {
      await a.stop();
    }
    expect(loadSigningKey(hostA.path)!.keyId).toBe(hostA.key.keyId);
  });

  it('a key rotation hands over with a checkpoint signed by both keys; verify passes after it, in the database and offline', async () => {
    const before = Keyring.load(keyringFile)!;
    const rotation = await withClient((client) =>
      rotateSigningKey({ client, keyFile: hostA.path, keyringFile, label: 'host a, 2nd key' }),
    );
    const newKey = loadSigningKey(hostA.path)!;
    expect(newKey.keyId).toBe(rotation.newKey.keyId);
    expect(newKey.keyId).not.toBe(hostA.key.keyId);
    // The handover: the same head, the same instant, signed by the old key and by the new one.
    expect(rotation.handover.map((c) => c.keyId)).toEqual([hostA.key.keyId, newKey.keyId]);
    expect(new Set(rotation.handover.map((c) => `${c.pos}:${c.hash}:${c.signedAt}`)).size).toBe(1);
    const keyring = Keyring.load(keyringFile)!;
    expect(keyring.get(hostA.key.keyId)!.notAfter).toBe(rotation.handover[0]!.signedAt);
    expect(keyring.get(newKey.keyId)!.notBefore).toBe(rotation.handover[0]!.signedAt);
    expect(keyring.get(hostB.key.keyId)).toEqual(before.get(hostB.key.keyId));

    const c = sealer(newKey);
    c.start();
    await append(11);
    await allSealed();
    await c.stop();

    const v = await verifyDatabaseChain(sqlOf(ds), Keyring.load(keyringFile)!);
    expect(v.problems).toEqual([]);
    expect(v.events).toBe(appended);

    const out = join(dir, 'exports');
    const { manifestPath, manifest } = await writeExport({
      sql: sqlOf(ds),
      dir: out,
      name: 'after-rotation',
      format: 'jsonl',
      filter: { from: null, to: null, actorId: null, action: null },
      signingKey: newKey,
      keys: keyring,
      createdBy: 'jest',
    });
    expect(manifest.keyId).toBe(newKey.keyId);
    // Offline: the files and the published keyring, read back from its file.
    const offline = await verifyExport(
      manifestPath,
      Keyring.parse(readFileSync(keyringFile, 'utf8')),
    );
    expect(offline.problems).toEqual([]);
    expect(offline.events).toBe(appended);
    expect(new Set(offline.manifest!.checkpoints.map((c) => c.keyId))).toEqual(
      new Set([hostA.key.keyId, hostB.key.keyId, newKey.keyId]),
    );
  });

  it('a checkpoint by a key outside the keyring, or by a retired key after its period, fails with a clear code', async () => {
    const repo = new AuditChainRepository(sqlOf(ds));
    const head = await repo.head();
    const stranger = generateSigningKey(join(dir, 'stranger.pem'));
    await repo.insertCheckpoint(signCheckpoint(stranger, head.pos, head.hash));
    await repo.insertCheckpoint(signCheckpoint(hostA.key, head.pos, head.hash));
    const v = await verifyDatabaseChain(sqlOf(ds), Keyring.load(keyringFile)!);
    expect(v.ok).toBe(false);
    expect(v.problems.map((p) => p.kind).sort()).toEqual(['key_outside_validity', 'key_unknown']);
    expect(v.problems.find((p) => p.kind === 'key_unknown')!.message).toContain(stranger.keyId);
  });
});

describe('the keyring file', () => {
  it('refuses a key id that is not its public key, and a bad time', () => {
    const k = generateSigningKey(join(mkdtempSync(join(tmpdir(), 'k-')), 'k.pem'));
    const good = JSON.parse(Keyring.ofKey(k.publicKey).toJson());
    expect(Keyring.parse(JSON.stringify(good)).get(k.keyId)).toBeDefined();
    good.keys[0].keyId = '0123456789abcdef';
    expect(() => Keyring.parse(JSON.stringify(good))).toThrow(/is not that of its public key/);
    good.keys[0].keyId = k.keyId;
    good.keys[0].notAfter = 'next tuesday';
    expect(() => Keyring.parse(JSON.stringify(good))).toThrow(/notAfter must be an ISO-8601 time/);
    expect(() => Keyring.parse('{"keys": []}')).toThrow(/enclave.audit.keyring\/v1/);
  });
});
