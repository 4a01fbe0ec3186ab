import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { AdminAppModule } from '../../apps/admin/src/admin.module.js';
import { startApp } from '../support/app.js';
import { createKey, createUser } from '../support/auth.js';
import { testConfig } from '../support/config.js';
import {
  asPostgres,
  DEPLOY_POSTGRES,
  postgresOwnedDir,
  setupStandby,
  TempCluster,
} from '../support/pg-cluster.js';
import { freePort } from '../support/ports.js';

// The console's dashboard shows the standbys streaming from the primary (made with the shipped
// deploy/postgres scripts), with their sync state and replay lag.

const REPLICATION_PASSWORD = 'repl-secret-for-test';
const APP_PASSWORD = 'enclave-app-secret';

async function waitFor(probe: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('admin dashboard: replication', () => {
  let root: string;
  let primary: TempCluster;
  let standby: TempCluster;
  let admin: INestApplication | undefined;

  beforeAll(async () => {
    root = postgresOwnedDir(mkdtempSync(join(tmpdir(), 'enclave-pg-')));
    const sockets = postgresOwnedDir(join(root, 'sock'));
    const pwFile = join(root, 'replication.pw');
    writeFileSync(pwFile, `${REPLICATION_PASSWORD}\n`);
    chmodSync(pwFile, 0o644);
    primary = await TempCluster.init(join(root, 'primary'), sockets, await freePort());
    await primary.start();
    await asPostgres(
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
        '--restart',
      ],
      primary.env,
    );
    // pg_stat_replication shows a standby's details only to superusers and pg_read_all_stats
    // members: the app's role gets that (scripts/install.sh, docs/operations.md).
    await primary.psql(`CREATE ROLE enclave LOGIN PASSWORD '${APP_PASSWORD}'`);
    await primary.psql('GRANT pg_read_all_stats TO enclave');
    await primary.psql('CREATE DATABASE enclave OWNER enclave');
    standby = new TempCluster(join(root, 'standby'), sockets, await freePort());
    await setupStandby(primary, standby, { name: 'standby1', passwordFile: pwFile });
    await waitFor(
      async () =>
        (await primary.psql(
          "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'",
        )) === '1',
      'the standby to stream',
    );
  }, 90_000);

  afterAll(async () => {
    await admin?.close();
    await primary?.stop();
    await standby?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('lists the streaming standby with its state and lag', async () => {
    const url = `postgres://enclave:${APP_PASSWORD}@127.0.0.1:${primary.port}/enclave`;
    const config = testConfig({ DATABASE_URL: url });
    admin = await startApp(AdminAppModule.forRoot(config), config);
    const user = await createUser(admin, 'root@example.com', 'admin');
    const { key } = await createKey(admin, user.id);
    const res = await request(admin.getHttpServer())
      .get('/api/admin/dashboard?minutes=5')
      .set('authorization', `Bearer ${key}`)
      .expect(200);
    expect(res.body.replication).toEqual([
      {
        name: 'standby1',
        clientAddr: '127.0.0.1',
        state: 'streaming',
        syncState: 'async',
        replayLagSeconds: res.body.replication[0].replayLagSeconds,
      },
    ]);
    const lag = res.body.replication[0].replayLagSeconds as number | null;
    expect(lag === null || (typeof lag === 'number' && lag >= 0)).toBe(true);
  }, 60_000);
});
