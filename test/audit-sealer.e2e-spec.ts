import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  AuditSealer,
  generateSigningKey,
  Keyring,
  type SigningKey,
  type VerificationKeys,
  verifyDatabaseChain,
} from '@enclave/audit-chain';
import { dataSourceOptions, runMigrations, sqlOf } from '@enclave/db';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testConfig } from './support/config.js';
import { freePort } from './support/ports.js';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';

// Real processes: appenders run the built AuditLog, the takeover test runs the built audit app.
const APPENDER = fileURLToPath(new URL('./support/audit-appender.mjs', import.meta.url));
const AUDIT_MAIN = fileURLToPath(new URL('../dist/apps/audit/src/main.js', import.meta.url));
const PER_APPENDER = 500;

Logger.overrideLogger(false);
const quietLog = { info: () => {}, warn: () => {}, error: () => {} };

interface Appended {
  appender: string;
  committed: number[];
  rolledBack: number[];
}

function runAppender(url: string, name: string, count = PER_APPENDER): Promise<Appended> {
  const child = spawn(process.execPath, [APPENDER], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: url,
      APPENDER: name,
      COUNT: String(count),
      CONCURRENCY: '6',
      ROLLBACK_RATE: '0.1',
      MAX_DELAY_MS: '6',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      if (code === 0) resolve(JSON.parse(out) as Appended);
      else reject(new Error(`appender ${name} exited ${code}: ${err}`));
    });
  });
}

async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function count(ds: DataSource, sql: string): Promise<number> {
  const [{ n }] = await ds.query(`SELECT (${sql})::int AS n`);
  return n;
}

/** Every committed event sealed exactly once, no rolled-back event present, chain verifies. */
async function expectSealedExactlyOnce(
  ds: DataSource,
  keys: VerificationKeys,
  appended: Appended[],
) {
  for (const a of appended) {
    const rows: { n: number }[] = await ds.query(
      `SELECT (payload->>'n')::int AS n FROM audit_events WHERE payload->>'appender' = $1 ORDER BY 1`,
      [a.appender],
    );
    expect(rows.map((r) => r.n)).toEqual([...a.committed].sort((x, y) => x - y));
    expect(a.rolledBack.length).toBeGreaterThan(0);
  }
  const committed = appended.reduce((s, a) => s + a.committed.length, 0);
  expect(
    await count(ds, `SELECT count(*) FROM audit_events WHERE payload->>'rollback' = 'true'`),
  ).toBe(0);
  expect(await count(ds, 'SELECT count(*) FROM audit_events')).toBe(committed);
  expect(await count(ds, 'SELECT count(*) FROM audit_chain')).toBe(committed);
  expect(await count(ds, 'SELECT count(DISTINCT event_id) FROM audit_chain')).toBe(committed);
  expect(await count(ds, 'SELECT max(pos) FROM audit_chain')).toBe(committed);
  expect(await count(ds, 'SELECT count(*) FROM audit_seal_queue')).toBe(0);
  const verdict = await verifyDatabaseChain(sqlOf(ds), keys);
  expect(verdict.problems).toEqual([]);
  expect(verdict).toMatchObject({ ok: true, positions: committed, events: committed });
  expect(verdict.checkpoints).toBeGreaterThan(0);
}

describe('the audit sealer under concurrent appenders', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let key: SigningKey;

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = new DataSource(dataSourceOptions(testConfig({ DATABASE_URL: db.url }), 'test'));
    await ds.initialize();
    await runMigrations(ds);
    key = generateSigningKey(join(mkdtempSync(join(tmpdir(), 'enclave-audit-')), 'key.pem'));
  });

  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  it('4 processes with random delays and 10% rollbacks: each committed event sealed exactly once, late commits sealed later', async () => {
    const sealer = new AuditSealer({
      databaseUrl: db.url,
      signingKey: key,
      checkpointEvery: 250,
      checkpointSeconds: 3_600,
      intervalMs: 20,
      unsealedAlertSeconds: 60,
      log: quietLog,
    });
    sealer.start();
    try {
      const appended = await Promise.all(['a', 'b', 'c', 'd'].map((n) => runAppender(db.url, n)));
      await until(
        'the queue to drain',
        async () => (await count(ds, 'SELECT count(*) FROM audit_seal_queue')) === 0,
      );
      await sealer.stop();
      await expectSealedExactlyOnce(ds, key.publicKey, appended);
      // Events committed after higher-numbered ones were already sealed: sealed later, not skipped.
      const late = await count(
        ds,
        'SELECT count(*) FROM audit_chain a JOIN audit_chain b ON a.event_id < b.event_id AND a.pos > b.pos',
      );
      expect(late).toBeGreaterThan(0);
    } finally {
      await sealer.stop();
    }
  });
});

interface AuditProcess {
  child: ChildProcess;
  port: number;
  stdout: () => string;
}

// Two audit hosts, each with its own signing key, and one published keyring holding both.
describe('audit app failover', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let keyringPath: string;
  const hosts: { path: string; key: SigningKey }[] = [];
  const procs: AuditProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = new DataSource(dataSourceOptions(testConfig({ DATABASE_URL: db.url }), 'test'));
    await ds.initialize();
    await runMigrations(ds);
    const dir = mkdtempSync(join(tmpdir(), 'enclave-audit-'));
    for (const name of ['host1', 'host2']) {
      const path = join(dir, `${name}.pem`);
      hosts.push({ path, key: generateSigningKey(path) });
    }
    keyringPath = join(dir, 'keyring.json');
    Keyring.ofKey(hosts[0]!.key.publicKey)
      .with({ publicKey: hosts[1]!.key.publicKey, notBefore: null, notAfter: null, label: null })
      .save(keyringPath);
  });

  afterAll(async () => {
    for (const p of procs)
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await ds.destroy();
    await db.drop();
  });

  async function startAudit(keyPath: string): Promise<AuditProcess> {
    const port = await freePort();
    const child = spawn(process.execPath, [AUDIT_MAIN], {
      env: {
        PATH: process.env.PATH,
        ENCLAVE_CONFIG: '',
        DATABASE_URL: db.url,
        AUDIT_PORT: String(port),
        AUDIT_SIGNING_KEY_FILE: keyPath,
        AUDIT_KEYRING_FILE: keyringPath,
        AUDIT_SEAL_INTERVAL_MS: '50',
        AUDIT_CHECKPOINT_EVERY: '100',
        AUDIT_CHECKPOINT_SECONDS: '1',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const p = { child, port, stdout: () => out };
    procs.push(p);
    await until('the audit app to be ready', async () => {
      if (child.exitCode !== null) throw new Error(`audit exited: ${out}`);
      return fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
    });
    return p;
  }

  const isActive = (p: AuditProcess) => p.stdout().includes('audit sealer active');

  it('SIGKILL of the active sealer: the standby (another key) takes over, nothing lost or duplicated, verifies with the keyring', async () => {
    const first = await startAudit(hosts[0]!.path);
    await until('a sealer to be active', async () => isActive(first));
    const second = await startAudit(hosts[1]!.path);
    const appending = Promise.all(['x', 'y'].map((n) => runAppender(db.url, n)));
    await until(
      'some events to be sealed',
      async () => (await count(ds, 'SELECT count(*) FROM audit_chain')) >= 150,
    );
    expect(isActive(second)).toBe(false);

    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    await until('the standby to take over', async () => isActive(second), 30_000);

    const appended = await appending;
    await until(
      'the queue to drain',
      async () => (await count(ds, 'SELECT count(*) FROM audit_seal_queue')) === 0,
    );
    await until('a checkpoint signed by the second host', async () => {
      const [row] = await ds.query(
        'SELECT count(*)::int AS n FROM audit_checkpoints WHERE key_id = $1',
        [hosts[1]!.key.keyId],
      );
      return row.n > 0;
    });
    await expectSealedExactlyOnce(ds, Keyring.load(keyringPath)!, appended);
    expect(first.stdout()).not.toContain('not trusted by the keyring');

    second.child.kill('SIGTERM');
    const [code] = await once(second.child, 'exit');
    expect(code).toBe(0);
    // Two app processes start, one after the other: more than the default 60 s when the
    // machine is shared.
  }, 180_000);
});
