import { Logger } from '@nestjs/common';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AuditLog, SYSTEM_ACTOR } from '@enclave/audit';
import { dataSourceOptions, runMigrations } from '@enclave/db';
import { testConfig } from '../support/config.js';
import {
  asPostgres,
  DEPLOY_POSTGRES,
  postgresOwnedDir,
  setupStandby,
  TempCluster,
} from '../support/pg-cluster.js';
import { freePort } from '../support/ports.js';

// A real primary and a synchronous standby made with the shipped scripts (deploy/postgres), the
// app writing audit events through a DataSource given both hosts; the primary dies, failover.sh
// promotes the standby, and rejoin.sh brings the old primary back as a standby with pg_rewind.
Logger.overrideLogger(false);

const REPLICATION_PASSWORD = 'repl-secret-for-test';
const APP_PASSWORD = 'enclave-app-secret';

describe('Postgres primary + synchronous standby, failover with the shipped scripts', () => {
  let root: string;
  let primary: TempCluster;
  let standby: TempCluster;
  let ds: DataSource | undefined;
  let pwFile: string;

  beforeAll(async () => {
    root = postgresOwnedDir(mkdtempSync(join(tmpdir(), 'enclave-pg-')));
    const sockets = postgresOwnedDir(join(root, 'sock'));
    pwFile = join(root, 'replication.pw');
    writeFileSync(pwFile, `${REPLICATION_PASSWORD}\n`);
    chmodSync(pwFile, 0o644);

    primary = await TempCluster.init(join(root, 'primary'), sockets, await freePort());
    await primary.start();
    const setupPrimary = (...extra: string[]) =>
      asPostgres(
        `${DEPLOY_POSTGRES}setup-primary.sh`,
        [
          '--pgdata',
          primary.dataDir,
          '--standby-network',
          '127.0.0.1/32',
          '--listen',
          '127.0.0.1',
          '--replication-password-file',
          pwFile,
          ...extra,
        ],
        primary.env,
      );
    await setupPrimary('--restart');
    await primary.psql(`CREATE ROLE enclave LOGIN PASSWORD '${APP_PASSWORD}'`);
    await primary.psql('CREATE DATABASE enclave OWNER enclave');

    standby = new TempCluster(join(root, 'standby'), sockets, await freePort());
    await setupStandby(primary, standby, { name: 'standby1', passwordFile: pwFile });
    // Synchronous only once the standby streams (before, every commit would wait for it); the
    // second run also shows setup-primary.sh is idempotent.
    await setupPrimary('--sync', 'FIRST 1 (standby1)');
    await waitFor(
      async () =>
        (await primary.psql(
          "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'",
        )) === '1',
      'the standby to stream synchronously',
    );
  }, 90_000);

  afterAll(async () => {
    await ds?.destroy().catch(() => undefined);
    await primary?.stop();
    await standby?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('keeps every acknowledged event and writes again within 10 s of the promotion, without a restart', async () => {
    const url = `postgres://enclave:${APP_PASSWORD}@127.0.0.1:${primary.port},127.0.0.1:${standby.port}/enclave`;
    ds = new DataSource(
      dataSourceOptions(testConfig({ DATABASE_URL: url, DATABASE_POOL_SIZE: '4' }), 'test'),
    );
    await ds.initialize();
    await runMigrations(ds);
    const audit = new AuditLog();
    const source = ds;

    const acknowledged: number[] = [];
    const ackedAt: number[] = [];
    let next = 0;
    let stop = false;
    // Two writers, as two requests at a time would be; each write is its own transaction.
    const writer = async () => {
      while (!stop) {
        const seq = next++;
        try {
          await source.transaction((manager) =>
            audit.append(manager, {
              actor: SYSTEM_ACTOR,
              action: 'test.failover.write',
              outcome: 'success',
              payload: { seq },
            }),
          );
          acknowledged.push(seq);
          ackedAt.push(Date.now());
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const writers = [writer(), writer()];
    try {
      await waitFor(async () => acknowledged.length >= 50, '50 writes on the primary');

      await primary.kill();
      const killedAt = Date.now();
      await asPostgres(`${DEPLOY_POSTGRES}failover.sh`, ['--pgdata', standby.dataDir], standby.env);
      const promotedAt = Date.now();
      const beforeFailover = acknowledged.filter((_, i) => ackedAt[i]! < killedAt).length;

      await waitFor(
        async () => ackedAt.some((t) => t > promotedAt),
        'a write acknowledged by the new primary',
        10_000,
      );
      const firstAfter = Math.min(...ackedAt.filter((t) => t > promotedAt));
      expect(firstAfter - promotedAt).toBeLessThanOrEqual(10_000);
      // Keep writing a little on the new primary.
      const target = acknowledged.length + 20;
      await waitFor(async () => acknowledged.length >= target, '20 more writes');
      expect(beforeFailover).toBeGreaterThanOrEqual(50);
    } finally {
      stop = true;
      await Promise.all(writers);
    }

    // Every event the app was told is committed is on the new primary (asked directly).
    const stored = new Set(
      (
        await standby.psql(
          "SELECT payload->>'seq' FROM audit_events WHERE action = 'test.failover.write'",
          'enclave',
        )
      )
        .split('\n')
        .map(Number),
    );
    const missing = acknowledged.filter((seq) => !stored.has(seq));
    expect(missing).toEqual([]);
    expect(await standby.psql('SELECT pg_is_in_recovery()')).toBe('f');
  }, 90_000);

  it('brings the old primary back as a standby of the new one (rejoin.sh, pg_rewind)', async () => {
    await asPostgres(
      `${DEPLOY_POSTGRES}rejoin.sh`,
      [
        '--pgdata',
        primary.dataDir,
        '--primary-host',
        '127.0.0.1',
        '--primary-port',
        String(standby.port),
        '--name',
        'oldprimary',
        '--replication-password-file',
        pwFile,
      ],
      primary.env,
    );
    expect(await primary.psql('SELECT pg_is_in_recovery()')).toBe('t');

    // The app still writes to the promoted server, and the rejoined one receives it.
    await ds!.query(
      `INSERT INTO audit_events (actor_type, action, outcome, payload)
       VALUES ('system', 'test.after.rejoin', 'success', '{}')`,
    );
    await waitFor(
      async () =>
        (await primary.psql(
          "SELECT count(*) FROM audit_events WHERE action = 'test.after.rejoin'",
          'enclave',
        )) === '1',
      'the rejoined standby to replay the new write',
    );
    expect(
      await standby.psql(
        "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'oldprimary' AND active",
      ),
    ).toBe('1');
  }, 90_000);

  it('backs the primary up and restores it into a server that has every event (backup.sh, restore.sh)', async () => {
    const count = () => "SELECT count(*) FROM audit_events WHERE action LIKE 'test.%'";
    const before = await standby.psql(count(), 'enclave');
    const backups = postgresOwnedDir(join(root, 'backups'));
    await asPostgres(`${DEPLOY_POSTGRES}backup.sh`, ['--dir', backups, '--keep', '1'], standby.env);

    const restored = new TempCluster(join(root, 'restored'), standby.socketDir, await freePort());
    const [name] = readdirSync(backups).filter((n) => n.startsWith('enclave-'));
    await asPostgres(`${DEPLOY_POSTGRES}restore.sh`, [
      '--backup',
      join(backups, name!),
      '--pgdata',
      restored.dataDir,
    ]);
    // Its own port: the copy carries the source's settings.
    await asPostgres('sh', [
      '-c',
      `echo "port = ${restored.port}" >> ${restored.dataDir}/postgresql.auto.conf`,
    ]);
    await restored.start();
    try {
      expect(await restored.psql('SELECT pg_is_in_recovery()')).toBe('f');
      expect(await restored.psql(count(), 'enclave')).toBe(before);
    } finally {
      await restored.stop();
    }
  }, 60_000);
});

async function waitFor(probe: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
