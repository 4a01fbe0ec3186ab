import pg from 'pg';
import { SEALER_LOCK, SIEM_FORWARDER_LOCK } from '@enclave/audit-chain';
import { dataSourceOptions, runMigrations } from '@enclave/db';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { checkAuditRuntime } from '../../apps/cli/src/doctor-audit.js';
import { testConfig } from '../support/config.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

// `enclave doctor`'s view of the audit app at work, on a real database: whether a sealer and a
// SIEM forwarder hold their locks (as the audit app's sessions do), how old the seal queue is,
// and how far the SIEM receiver's cursor is behind the chain and since when.
Logger.overrideLogger(false);
const RECEIVER = 'tcp://siem.test:6514';

describe('enclave doctor: sealer liveness and SIEM lag', () => {
  let db: TestDatabase;
  let owner: pg.Client;
  let auditApp: pg.Client | null = null;
  const config = () =>
    testConfig({
      DATABASE_URL: db.url,
      AUDIT_UNSEALED_ALERT_SECONDS: '120',
      AUDIT_SIEM_URL: RECEIVER,
    });
  const check = async (name: string) =>
    (await checkAuditRuntime(config())).find((f) => f.check === name);

  beforeAll(async () => {
    db = await createTestDatabase();
    const ds = await new DataSource(
      dataSourceOptions(testConfig({ DATABASE_URL: db.url }), 'test'),
    ).initialize();
    await runMigrations(ds);
    await ds.destroy();
    owner = new pg.Client({ connectionString: db.url });
    await owner.connect();
  });

  afterAll(async () => {
    await auditApp?.end();
    await owner?.end();
    await db?.drop();
  });

  it('fails when no audit app holds the locks: nothing seals, nothing forwards', async () => {
    expect(await check('audit sealer')).toMatchObject({
      verdict: 'fail',
      message: expect.stringMatching(/^no audit app holds the sealer's lock/),
      fix: expect.stringContaining('systemctl start enclave-audit'),
    });
    expect(await check('SIEM forwarding')).toMatchObject({
      verdict: 'fail',
      message: `no audit app forwards to ${RECEIVER}; it lacks 0 sealed event(s)`,
    });
  });

  it('names the session of an active sealer, and fails it when the queue is older than the limit', async () => {
    auditApp = new pg.Client({ connectionString: db.url, application_name: 'enclave-audit-sealer' }); // prettier-ignore
    await auditApp.connect();
    await auditApp.query('SELECT pg_advisory_lock($1), pg_advisory_lock($2)', [SEALER_LOCK, SIEM_FORWARDER_LOCK]); // prettier-ignore
    const { pid } = (await auditApp.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))
      .rows[0]!;
    expect(await check('audit sealer')).toEqual({
      check: 'audit sealer',
      verdict: 'ok',
      message: `active in session ${pid} (enclave-audit-sealer from 127.0.0.1); no event waits to be sealed`,
    });

    await owner.query(`INSERT INTO audit_seal_queue (event_id, queued_at) VALUES (1, now() - interval '10 minutes'), (2, now())`); // prettier-ignore
    expect(await check('audit sealer')).toMatchObject({
      verdict: 'fail',
      message: expect.stringMatching(
        /^active in session \d+ .*, but 2 event\(s\) wait to be sealed, the oldest for 600 s \(AUDIT_UNSEALED_ALERT_SECONDS=120\)$/,
      ),
    });
    await owner.query('DELETE FROM audit_seal_queue');
  });

  it('measures the SIEM lag in events and in time since its cursor moved', async () => {
    const hash = (n: number) => Buffer.alloc(32, n);
    for (const pos of [1, 2, 3]) {
      await owner.query(
        'INSERT INTO audit_chain (pos, event_id, leaf_hash, hash) VALUES ($1, $1, $2, $3)',
        [pos, hash(pos), hash(pos + 10)],
      );
    }
    expect(await check('SIEM forwarding')).toMatchObject({
      verdict: 'fail',
      message: `${RECEIVER} lacks 3 sealed event(s); its cursor has never moved`,
    });
    const cursor = async (pos: number, ago: string) =>
      owner.query(
        `INSERT INTO audit_siem_cursor (receiver, pos, updated_at) VALUES ($1, $2, now() - $3::interval)
         ON CONFLICT (receiver) DO UPDATE SET pos = $2, updated_at = now() - $3::interval`,
        [RECEIVER, pos, ago],
      );
    await cursor(1, '10 minutes');
    expect(await check('SIEM forwarding')).toMatchObject({
      verdict: 'fail',
      message: `${RECEIVER} lacks 2 sealed event(s); its cursor last moved 600 s ago`,
      fix: expect.stringContaining('AUDIT_SIEM_URL'),
    });
    await cursor(1, '2 minutes');
    expect((await check('SIEM forwarding'))?.verdict).toBe('warn');
    await cursor(2, '1 second');
    expect(await check('SIEM forwarding')).toMatchObject({
      verdict: 'ok',
      message: expect.stringMatching(/lacks 1 sealed event\(s\); .* \(catching up\)$/),
    });
    await cursor(3, '0 seconds');
    expect(await check('SIEM forwarding')).toMatchObject({
      verdict: 'ok',
      message: expect.stringMatching(new RegExp(`^${RECEIVER} has every sealed event \\(position 3\\); forwarded by session \\d+`)), // prettier-ignore
    });
  });

  it('skips the SIEM check without AUDIT_SIEM_URL', async () => {
    const findings = await checkAuditRuntime(testConfig({ DATABASE_URL: db.url }));
    expect(findings.map((f) => f.check)).toEqual(['audit sealer']);
  });
});
