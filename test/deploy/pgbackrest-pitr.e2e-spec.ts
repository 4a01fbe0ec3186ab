import { execFile } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditLog, SYSTEM_ACTOR } from '@enclave/audit';
import {
  AuditSealer,
  generateSigningKey,
  verifyDatabaseChain,
  type SigningKey,
} from '@enclave/audit-chain';
import { dataSourceOptions, runMigrations, sqlOf } from '@enclave/db';
import { checkBackups } from '../../apps/cli/src/doctor-cluster.js';
import { testConfig } from '../support/config.js';
import { asPostgres, postgresOwnedDir, TempCluster } from '../support/pg-cluster.js';
import { freePort } from '../support/ports.js';

// The shipped deploy/pgbackrest kit on a real Postgres: WAL archived by archive_command into an
// encrypted repository, a full backup, two marked audit events at t1 < t2, and pitr.sh restoring
// to a time between them into a new data directory: the first event is there, the second is not,
// and the audit chain verifies up to the restored head.
Logger.overrideLogger(false);

const run = promisify(execFile);
const KIT = fileURLToPath(new URL('../../deploy/pgbackrest/', import.meta.url));
const APP_PASSWORD = 'pitr-app-secret';
const quietLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('pgBackRest: encrypted WAL archive, backup, point-in-time restore (deploy/pgbackrest)', () => {
  let root: string;
  let conf: string;
  let source: TempCluster;
  let restored: TempCluster | undefined;
  const open: DataSource[] = [];
  let sealer: AuditSealer | undefined;
  let key: SigningKey;

  const pgbackrest = (...args: string[]) =>
    asPostgres('pgbackrest', [`--config=${conf}`, '--stanza=enclave', ...args]);
  const appUrl = (port: number) => `postgres://enclave:${APP_PASSWORD}@127.0.0.1:${port}/enclave`;

  beforeAll(async () => {
    root = postgresOwnedDir(mkdtempSync(join(tmpdir(), 'enclave-pitr-')));
    const sockets = postgresOwnedDir(join(root, 'sock'));
    conf = join(root, 'pgbackrest.conf');
    source = await TempCluster.init(join(root, 'source'), sockets, await freePort());
    await asPostgres(join(KIT, 'render.sh'), [
      ...['--out', conf, '--repo', join(root, 'repo'), '--pgdata', source.dataDir],
      ...['--cipher-pass-file', join(root, 'cipher-pass'), '--pg-port', String(source.port)],
      ...[
        '--socket-dir',
        sockets,
        '--log-dir',
        join(root, 'log'),
        '--lock-dir',
        join(root, 'lock'),
      ],
      ...['--spool-dir', join(root, 'spool')],
    ]);
    appendFileSync(
      join(source.dataDir, 'postgresql.conf'),
      `archive_mode = on\narchive_command = 'pgbackrest --config=${conf} --stanza=enclave archive-push %p'\n`,
    );
    await source.start();
    await source.psql(`CREATE ROLE enclave LOGIN PASSWORD '${APP_PASSWORD}'`);
    await source.psql('CREATE DATABASE enclave OWNER enclave');
    key = generateSigningKey(join(root, 'signing-key.pem'));
  }, 60_000);

  afterAll(async () => {
    await sealer?.stop();
    await Promise.all(open.map((ds) => ds.destroy().catch(() => undefined)));
    await restored?.stop();
    await source?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  async function dataSource(port: number): Promise<DataSource> {
    const ds = new DataSource(
      dataSourceOptions(
        testConfig({ DATABASE_URL: appUrl(port), DATABASE_POOL_SIZE: '2' }),
        'test',
      ),
    );
    await ds.initialize();
    open.push(ds);
    return ds;
  }

  async function sealed(ds: DataSource): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const [{ n }] = await ds.query('SELECT count(*)::int AS n FROM audit_seal_queue');
      if (n === 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the sealer did not drain the queue');
  }

  it('restores to a time between two marked writes: the first is there, the second not, the chain verifies', async () => {
    const ds = await dataSource(source.port);
    await runMigrations(ds);
    sealer = new AuditSealer({
      databaseUrl: appUrl(source.port),
      signingKey: key,
      checkpointEvery: 1,
      checkpointSeconds: 3_600,
      intervalMs: 20,
      unsealedAlertSeconds: 60,
      log: quietLog,
    });
    sealer.start();
    const audit = new AuditLog();
    const mark = (action: string) =>
      ds.transaction((m) =>
        audit.append(m, { actor: SYSTEM_ACTOR, action, outcome: 'success', payload: {} }),
      );

    await pgbackrest('stanza-create');
    const backupStart = Date.now();
    await pgbackrest('backup', '--type=full');
    const backupMs = Date.now() - backupStart;
    // What `enclave doctor` says about it.
    const doctor = await checkBackups(conf);
    expect(doctor.verdict).toBe('ok');
    expect(doctor.message).toMatch(
      /^last full backup 0\.0 h ago; newest archived WAL [0-9A-F]{24}; ok$/,
    );
    const [{ bytes }] = await ds.query(
      `SELECT sum(pg_database_size(datname))::bigint AS bytes FROM pg_database`,
    );

    // pgBackRest restores to a time only from a backup whose stop time (kept in whole seconds) is
    // before it; a target in the backup's last second was refused once: keep clear of it.
    await new Promise((r) => setTimeout(r, 2_100));
    await mark('test.pitr.first');
    await sealed(ds);
    // The target: after t1's commit (and its seal), by the server's own clock.
    const [{ target }] = await ds.query(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC',
      'YYYY-MM-DD HH24:MI:SS.US') || '+00' AS target`);
    await new Promise((r) => setTimeout(r, 1_100));
    await mark('test.pitr.second');
    await sealed(ds);
    await sealer.stop();
    // Forces a WAL switch and waits until the segment holding t2 is in the archive.
    await pgbackrest('check');

    restored = new TempCluster(join(root, 'restored'), source.socketDir, await freePort());
    postgresOwnedDir(restored.dataDir);
    const restoreStart = Date.now();
    await asPostgres(join(KIT, 'pitr.sh'), [
      ...['--config', conf, '--pgdata', restored.dataDir, '--target', target],
      // A drill must not archive into the production repository.
      '--archive-mode=off',
    ]);
    appendFileSync(join(restored.dataDir, 'postgresql.auto.conf'), `port = ${restored.port}\n`);
    await restored.start();
    await waitPromoted(restored);
    const restoreMs = Date.now() - restoreStart;

    const back = await dataSource(restored.port);
    const actions = (
      await back.query(`SELECT action FROM audit_events WHERE action LIKE 'test.pitr.%'`)
    ).map((r: { action: string }) => r.action);
    expect(actions).toEqual(['test.pitr.first']);
    const verdict = await verifyDatabaseChain(sqlOf(back), key.publicKey);
    expect(verdict.ok).toBe(true);
    expect(verdict.unsealed).toBe(0);
    const [{ head }] = await back.query(`SELECT max(pos)::int AS head FROM audit_chain`);
    expect(verdict.lastPos).toBe(head);
    console.log(
      `pgbackrest: full backup of ${Math.round(Number(bytes) / 1e6)} MB in ${backupMs} ms; restore + recovery to the target in ${restoreMs} ms`,
    );
  }, 180_000);

  it("backs Enclave's own secrets up encrypted and restores them (backup-secrets.sh)", async () => {
    const etc = join(root, 'etc-enclave');
    mkdirSync(etc);
    writeFileSync(join(etc, 'enclave.env'), 'ENCLAVE_MASTER_KEY=c2VjcmV0LW1hc3Rlci1rZXk=\n');
    writeFileSync(join(root, 'passphrase'), 'correct horse battery staple\n');
    const archive = join(root, 'secrets.enc');
    const script = join(KIT, 'backup-secrets.sh');
    await run(script, ['--out', archive, '--passphrase-file', join(root, 'passphrase'), etc]);
    expect(readFileSync(archive).includes('ENCLAVE_MASTER_KEY')).toBe(false);

    writeFileSync(join(root, 'wrong'), 'not the passphrase\n');
    await expect(
      run(script, [
        ...['--restore', archive, '--passphrase-file', join(root, 'wrong')],
        ...['--into', join(root, 'bad')],
      ]),
    ).rejects.toThrow();
    await run(script, [
      ...['--restore', archive, '--passphrase-file', join(root, 'passphrase')],
      ...['--into', join(root, 'back')],
    ]);
    expect(readFileSync(join(root, 'back', etc, 'enclave.env'), 'utf8')).toBe(
      readFileSync(join(etc, 'enclave.env'), 'utf8'),
    );
  });
});

async function waitPromoted(cluster: TempCluster): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if ((await cluster.psql('SELECT pg_is_in_recovery()').catch(() => 't')) === 'f') return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the restored server did not finish recovery');
}
