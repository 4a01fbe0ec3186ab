import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { type AuditEvent, AuditLog } from '@enclave/audit';
import {
  generateSigningKey,
  loadSigningKey,
  SEALER_LOCK,
  verifyDatabaseChain,
} from '@enclave/audit-chain';
import { ConfigError } from '@enclave/config';
import { dataSourceOptions, runMigrations, sqlOf } from '@enclave/db';
import { testConfig } from './support/config.js';
import { realmFetch } from './support/openai.js';
import { freePort } from './support/ports.js';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';
import { type ReceivedFields, testCa, TestRsyslog } from './support/rsyslog.js';
import { TcpProxy } from './support/tcp-proxy.js';

// Real processes: the built audit app forwards to the machine's rsyslogd on loopback.
const AUDIT_MAIN = fileURLToPath(new URL('../dist/apps/audit/src/main.js', import.meta.url));
const BOM = '\uFEFF';

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface AuditProcess {
  child: ChildProcess;
  port: number;
  output: () => string;
}

/** One test database with the schema, a signing key, and audit app processes started on it. */
class Fixture {
  db!: TestDatabase;
  ds!: DataSource;
  keyPath!: string;
  readonly procs: AuditProcess[] = [];
  private appended = 0;

  async setUp(): Promise<void> {
    this.db = await createTestDatabase();
    this.ds = new DataSource(dataSourceOptions(testConfig({ DATABASE_URL: this.db.url }), 'test'));
    await this.ds.initialize();
    await runMigrations(this.ds);
    this.keyPath = join(mkdtempSync(join(tmpdir(), 'enclave-siem-key-')), 'key.pem');
    generateSigningKey(this.keyPath);
  }

  async tearDown(): Promise<void> {
    for (const p of this.procs)
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await this.ds?.destroy();
    await this.db?.drop();
  }

  /** `probe`: what counts as started (a stalled sealer keeps the app from being ready). */
  async startAudit(
    env: Record<string, string>,
    probe: '/readyz' | '/healthz' = '/readyz',
  ): Promise<AuditProcess> {
    const port = await freePort();
    const child = spawn(process.execPath, [AUDIT_MAIN], {
      env: {
        PATH: process.env.PATH,
        ENCLAVE_CONFIG: '',
        DATABASE_URL: this.db.url,
        AUDIT_PORT: String(port),
        AUDIT_SIGNING_KEY_FILE: this.keyPath,
        AUDIT_SEAL_INTERVAL_MS: '50',
        LOG_LEVEL: 'info',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const p = { child, port, output: () => out };
    this.procs.push(p);
    await until(`the audit app to answer ${probe}`, async () => {
      if (child.exitCode !== null) throw new Error(`audit exited: ${out}`);
      return realmFetch(`http://127.0.0.1:${port}${probe}`).then(
        (r) => r.ok,
        () => false,
      );
    });
    return p;
  }

  async stopAudit(p: AuditProcess): Promise<void> {
    p.child.kill('SIGTERM');
    const [code] = await once(p.child, 'exit');
    expect(code).toBe(0);
  }

  /** Appends n events of a few kinds, each in its own transaction, as the apps do. */
  async append(n: number): Promise<void> {
    const log = new AuditLog();
    for (let i = 0; i < n; i++) {
      const k = ++this.appended;
      const event: AuditEvent =
        k % 3 === 0
          ? {
              actor: { type: 'anonymous', label: 'eve "the quote" \\ back ] bracket' },
              action: 'auth.login.failed',
              outcome: 'failure',
              meta: { ip: '10.9.8.7', userAgent: 'curl/8', requestId: `r${k}` },
              payload: { k, email: 'eve@example.com', reason: 'bad_password' },
            }
          : {
              actor: { type: 'user', id: '00000000-0000-4000-8000-000000000001', label: 'ana' },
              action: 'chat.completion',
              target: { type: 'message', id: `m${k}` },
              outcome: 'success',
              payload: { k, model: 'enclave-sim', note: 'é😀 "x"\n' },
            };
      await this.ds.transaction((m) => log.append(m, event));
    }
  }

  get appendedCount(): number {
    return this.appended;
  }

  /** The sealed chain as the database has it, by position. */
  async chain(): Promise<Map<number, Record<string, unknown>>> {
    const rows: Record<string, unknown>[] = await this.ds.query(
      `SELECT c.pos::int AS pos, encode(c.hash, 'hex') AS "chainHash", e.id::text AS id,
              e.action, e.actor_type AS "actorType", e.actor_id::text AS "actorId",
              e.actor_label AS "actorLabel", e.outcome, e.payload,
              encode(e.payload_hash, 'hex') AS "payloadHash", e.redacted_at AS "redactedAt",
              to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "occurredAt"
         FROM audit_chain c JOIN audit_events e ON e.id = c.event_id ORDER BY c.pos`,
    );
    return new Map(rows.map((r) => [r.pos as number, r]));
  }

  async cursor(): Promise<number | null> {
    const rows: { pos: number }[] = await this.ds.query(
      'SELECT pos::int AS pos FROM audit_siem_cursor',
    );
    return rows[0]?.pos ?? null;
  }
}

/** The structured data's parameters (RFC 5424 §6.3.3 escaping undone). */
function sdParams(sd: string): Record<string, string> {
  expect(sd.startsWith('[enclave@32473 ')).toBe(true);
  const params: Record<string, string> = {};
  for (const m of sd.matchAll(/ (\w+)="((?:[^"\\]|\\.)*)"/g))
    params[m[1]!] = m[2]!.replace(/\\(.)/g, '$1');
  return params;
}

const positionsOf = (fields: ReceivedFields[]) => fields.map((f) => Number(sdParams(f.sd).pos));

async function metric(port: number, name: string): Promise<number | null> {
  const text = await (await realmFetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

describe('SIEM forwarding to a real rsyslog receiver', () => {
  const f = new Fixture();
  let rsyslog: TestRsyslog;

  beforeAll(async () => {
    await f.setUp();
    rsyslog = new TestRsyslog(mkdtempSync(join(tmpdir(), 'enclave-rsyslog-')), await freePort());
    await rsyslog.start();
  });

  afterAll(async () => {
    await rsyslog?.stop();
    await f.tearDown();
  });

  it('over TCP: every sealed event arrives once, in chain order, with its fields; a redacted payload is not sent', async () => {
    await f.append(90);
    // Erased for privacy before it was forwarded (as eraseUser does): no payload reaches the SIEM.
    await f.ds.query(
      `UPDATE audit_events SET payload = '{"redacted":true}'::json, payload_salt = NULL,
              redacted_at = now()
        WHERE payload->>'k' = '5'`,
    );
    const app = await f.startAudit({
      AUDIT_SIEM_URL: `tcp://127.0.0.1:${rsyslog.port}`,
      AUDIT_SIEM_HOSTNAME: 'enclave-test',
    });
    await until('90 messages at the receiver', () => rsyslog.fields().length >= 90);
    await until('the cursor to settle', async () => (await f.cursor()) === 90);

    const chain = await f.chain();
    const fields = rsyslog.fields();
    const raw = rsyslog.raw();
    expect(positionsOf(fields)).toEqual([...chain.keys()]);
    expect(raw).toHaveLength(90);
    fields.forEach((got, i) => {
      const e = chain.get(i + 1)!;
      // rsyslog's own RFC 5424 parser found every header field where it belongs.
      expect(got).toMatchObject({
        pri: String(13 * 8 + (e.outcome === 'success' ? 6 : 4)),
        hostname: 'enclave-test',
        appName: 'enclave',
        msgid: e.action,
        timestamp: e.occurredAt,
      });
      expect(got.procid).toMatch(/^\d+$/);
      expect(sdParams(got.sd)).toEqual({
        pos: String(i + 1),
        chainHash: e.chainHash,
        eventId: e.id,
        action: e.action,
        actorType: e.actorType,
        ...(e.actorId ? { actorId: e.actorId } : {}),
        actor: e.actorLabel,
        outcome: e.outcome,
        payloadHash: e.payloadHash,
        ...(e.redactedAt ? { redacted: 'true' } : {}),
      });
      expect(got.msg.startsWith(BOM)).toBe(true);
      const msg = JSON.parse(got.msg.slice(1));
      expect(msg).toMatchObject({
        pos: i + 1,
        chainHash: e.chainHash,
        id: e.id,
        occurredAt: e.occurredAt,
        action: e.action,
        outcome: e.outcome,
        actor: { type: e.actorType, id: e.actorId, label: e.actorLabel },
        payloadHash: e.payloadHash,
        payload: e.redactedAt ? null : e.payload,
      });
      // The raw bytes are one RFC 5424 line: version 1, the SD, then BOM + the JSON.
      expect(raw[i]).toMatch(
        /^<\d+>1 \S+ enclave-test enclave \d+ \S+ \[enclave@32473 .*\] \uFEFF\{/,
      );
    });
    const redacted = fields.find((x) => sdParams(x.sd).redacted === 'true')!;
    expect(JSON.parse(redacted.msg.slice(1)).payload).toBeNull();
    expect(rsyslog.raw().join('\n')).not.toContain('by-mistake');

    expect(await metric(app.port, 'enclave_audit_siem_forwarded_total')).toBe(90);
    expect(await metric(app.port, 'enclave_audit_siem_connected')).toBe(1);
    await until(
      'no lag',
      async () => (await metric(app.port, 'enclave_audit_siem_lag_positions')) === 0,
    );
    await f.stopAudit(app);
  });

  it('receiver stopped mid-run, then the audit app restarted: every event arrives at least once, none missing, the cursor survives', async () => {
    const start = f.appendedCount; // 90 forwarded by the previous test (same receiver URL)
    const url = `tcp://127.0.0.1:${rsyslog.port}`;
    const app = await f.startAudit({ AUDIT_SIEM_URL: url });
    // The receiver stops while events are being appended, sealed and forwarded.
    const appending = f.append(150);
    await until('some new events at the receiver', () =>
      positionsOf(rsyslog.fields()).some((p) => p > start + 20),
    );
    await rsyslog.stop();
    await until(
      'the forwarder to notice',
      async () => (await metric(app.port, 'enclave_audit_siem_connected')) === 0,
    );
    await appending;
    await f.append(50);
    await until(
      'the lag to show',
      async () => ((await metric(app.port, 'enclave_audit_siem_lag_positions')) ?? 0) >= 50,
    );
    await rsyslog.start();
    const total = f.appendedCount;
    await until(
      'every position at the receiver',
      () => new Set(positionsOf(rsyslog.fields())).size === total,
    );
    await until('the cursor to settle', async () => (await f.cursor()) === total);
    expect(app.output()).toContain('SIEM receiver connection lost');

    // A restart resumes after the persisted cursor instead of sending the chain again.
    await f.stopAudit(app);
    const cursor = (await f.cursor())!;
    const receivedBefore = rsyslog.fields().length;
    await f.append(30);
    const again = await f.startAudit({ AUDIT_SIEM_URL: url });
    await until(
      'the new events at the receiver',
      () => new Set(positionsOf(rsyslog.fields())).size === total + 30,
    );
    const afterRestart = positionsOf(rsyslog.fields().slice(receivedBefore));
    expect(afterRestart[0]).toBe(cursor + 1);
    expect(afterRestart).toEqual(Array.from({ length: 30 }, (_, i) => cursor + 1 + i));

    // None missing, each message well-formed; the chain itself is untouched.
    const all = positionsOf(rsyslog.fields());
    expect([...new Set(all)].sort((a, b) => a - b)).toEqual(
      Array.from({ length: total + 30 }, (_, i) => i + 1),
    );
    const verdict = await verifyDatabaseChain(sqlOf(f.ds), loadSigningKey(f.keyPath)!.publicKey);
    expect(verdict.ok).toBe(true);
    await f.stopAudit(again);
  });
});

describe('SIEM forwarding when messages are lost in transit', () => {
  const f = new Fixture();
  let rsyslog: TestRsyslog;
  let proxy: TcpProxy;

  beforeAll(async () => {
    await f.setUp();
    rsyslog = new TestRsyslog(mkdtempSync(join(tmpdir(), 'enclave-rsyslog-')), await freePort());
    await rsyslog.start();
    proxy = new TcpProxy('127.0.0.1', rsyslog.port);
    await proxy.start();
  });

  afterAll(async () => {
    await proxy?.stop();
    await rsyslog?.stop();
    await f.tearDown();
  });

  it('what was written just before the connection broke is sent again after reconnecting', async () => {
    await f.append(20);
    // A long settle window: the cut below must come before it ends, however busy the machine.
    const app = await f.startAudit({
      AUDIT_SIEM_URL: `tcp://127.0.0.1:${proxy.port}`,
      AUDIT_SIEM_SETTLE_MS: '5000',
    });
    await until('20 messages at the receiver', () => rsyslog.fields().length >= 20);
    await until('the cursor to settle at 20', async () => (await f.cursor()) === 20);

    // Written by the forwarder (the kernel took the bytes) but never delivered, then the
    // connection breaks within the settle window: the cursor must not have passed them.
    proxy.swallowed = [];
    await f.append(10);
    await until('the forwarder to write all 30', () =>
      Buffer.concat(proxy.swallowed!).toString().includes('pos="30"'),
    );
    await proxy.cut();
    proxy.swallowed = null;
    expect(rsyslog.fields().length).toBe(20);
    await proxy.restore();

    await until('all 30 at the receiver', () => new Set(positionsOf(rsyslog.fields())).size === 30);
    // Resent from the persisted cursor: exactly the lost ones, nothing settled before them.
    expect(positionsOf(rsyslog.fields())).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    await until('the cursor to settle', async () => (await f.cursor()) === 30);
    await f.stopAudit(app);
  });
});

describe('SIEM forwarding over TLS to rsyslog (gtls driver)', () => {
  const f = new Fixture();
  let rsyslog: TestRsyslog;
  let ca: string;

  beforeAll(async () => {
    await f.setUp();
    const dir = mkdtempSync(join(tmpdir(), 'enclave-rsyslog-tls-'));
    const certs = await testCa(dir);
    ca = certs.ca;
    rsyslog = new TestRsyslog(dir, await freePort(), certs);
    await rsyslog.start();
  });

  afterAll(async () => {
    await rsyslog?.stop();
    await f.tearDown();
  });

  it('every sealed event arrives in order over a verified TLS connection', async () => {
    await f.append(25);
    const app = await f.startAudit({
      AUDIT_SIEM_URL: `tls://localhost:${rsyslog.port}`,
      AUDIT_SIEM_CA_FILE: ca,
    });
    await until('25 messages at the receiver', () => rsyslog.fields().length >= 25);
    expect(positionsOf(rsyslog.fields())).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    await until('the cursor to settle', async () => (await f.cursor()) === 25);
    await f.stopAudit(app);
  });

  it('a receiver whose certificate the CA did not sign gets nothing', async () => {
    const other = await testCa(mkdtempSync(join(tmpdir(), 'enclave-other-ca-')));
    const before = rsyslog.fields().length;
    await f.append(5);
    const app = await f.startAudit({
      AUDIT_SIEM_URL: `tls://localhost:${rsyslog.port}`,
      AUDIT_SIEM_CA_FILE: other.ca,
    });
    await until('a refused connection', () => app.output().includes('SIEM receiver unreachable'));
    expect(app.output()).toMatch(/certificate/i);
    expect(rsyslog.fields().length).toBe(before);
    await f.stopAudit(app);
  });
});

describe('SIEM configuration', () => {
  const bad: [Record<string, string>, string, RegExp][] = [
    [{ AUDIT_SIEM_URL: 'udp://siem.example:514' }, 'AUDIT_SIEM_URL', /scheme must be tcp or tls/],
    [{ AUDIT_SIEM_URL: 'siem.example:514' }, 'AUDIT_SIEM_URL', /AUDIT_SIEM_URL/],
    [{ AUDIT_SIEM_URL: 'tcp://siem.example:514/path' }, 'AUDIT_SIEM_URL', /only a host and a port/],
    [{ AUDIT_SIEM_URL: 'tcp://siem.example:99999' }, 'AUDIT_SIEM_URL', /AUDIT_SIEM_URL/],
    [
      { AUDIT_SIEM_URL: 'tcp://siem.example', AUDIT_SIEM_CA_FILE: '/etc/hostname' },
      'AUDIT_SIEM_CA_FILE',
      /plain TCP/,
    ],
    [{ AUDIT_SIEM_CA_FILE: '/etc/hostname' }, 'AUDIT_SIEM_CA_FILE', /AUDIT_SIEM_URL is not/],
    [
      { AUDIT_SIEM_URL: 'tls://siem.example', AUDIT_SIEM_CA_FILE: '/nonexistent/ca.pem' },
      'AUDIT_SIEM_CA_FILE',
      /cannot be read \(no such file\)/,
    ],
    [
      { AUDIT_SIEM_URL: 'tcp://x', AUDIT_SIEM_APP_NAME: 'two words' },
      'AUDIT_SIEM_APP_NAME',
      /printable ASCII/,
    ],
  ];

  it.each(bad)('%j is refused, naming %s', (env, key, message) => {
    let error: unknown;
    try {
      testConfig(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe(key);
    expect((error as Error).message).toMatch(message);
  });

  it('takes a host with default ports and the defaults for the message fields', () => {
    expect(testConfig({ AUDIT_SIEM_URL: 'tcp://siem.example' }).audit.siem).toMatchObject({
      tls: false,
      host: 'siem.example',
      port: 514,
      appName: 'enclave',
      maxMessageBytes: 8192,
    });
    expect(testConfig({ AUDIT_SIEM_URL: 'tls://[::1]' }).audit.siem).toMatchObject({
      tls: true,
      host: '::1',
      port: 6514,
    });
    expect(testConfig({}).audit.siem).toBeNull();
  });

  it('the audit app refuses to start with a malformed SIEM URL, saying which key is wrong', async () => {
    const child = spawn(process.execPath, [AUDIT_MAIN], {
      env: { PATH: process.env.PATH, ENCLAVE_CONFIG: '', AUDIT_SIEM_URL: 'udp://siem.example:514' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const [code] = await once(child, 'exit');
    expect(code).toBe(78);
    expect(err).toContain('AUDIT_SIEM_URL="udp://siem.example:514" is invalid');
  });
});

describe('the unsealed-events alert', () => {
  const f = new Fixture();

  beforeAll(() => f.setUp());
  afterAll(() => f.tearDown());

  it('events committed while the active sealer is stalled: gauges on /metrics and a warning past the bound, cleared once sealed', async () => {
    // A stalled active sealer: something holds the sealer's lock and seals nothing.
    const stalled = new pg.Client({ connectionString: f.db.url });
    await stalled.connect();
    await stalled.query('SELECT pg_advisory_lock($1)', [SEALER_LOCK]);
    try {
      await f.append(3);
      await f.ds.query(`UPDATE audit_seal_queue SET queued_at = now() - interval '1 hour'`);
      // A bound of 2 s: the queue is checked every second.
      const app = await f.startAudit({ AUDIT_UNSEALED_ALERT_SECONDS: '2' }, '/healthz');
      await until(
        'the unsealed gauge',
        async () => (await metric(app.port, 'enclave_audit_unsealed_events')) === 3,
      );
      expect(
        await metric(app.port, 'enclave_audit_oldest_unsealed_seconds'),
      ).toBeGreaterThanOrEqual(3600);
      expect(await metric(app.port, 'enclave_audit_sealer_lag_seconds')).toBeGreaterThanOrEqual(
        3600,
      );
      // Not ready while the chain falls behind, and /readyz says why.
      const notReady = await realmFetch(`http://127.0.0.1:${app.port}/readyz`);
      expect(notReady.status).toBe(503);
      expect(
        ((await notReady.json()) as { reasons: Record<string, string> }).reasons['audit-sealer'],
      ).toMatch(
        /^3 audit events wait to be sealed, the oldest for \d+ s \(AUDIT_UNSEALED_ALERT_SECONDS=2\)/,
      );
      await until('the warning', () =>
        app
          .output()
          .includes(
            'audit events are waiting to be sealed longer than AUDIT_UNSEALED_ALERT_SECONDS',
          ),
      );
      expect(app.output()).toMatch(/"unsealed":3/);
      expect(app.output()).not.toContain('audit sealer active');

      // The stalled sealer goes away: this one takes over, seals, and the gauges drop to 0.
      await stalled.end();
      await until(
        'the queue to be sealed',
        async () => (await metric(app.port, 'enclave_audit_unsealed_events')) === 0,
      );
      expect(await metric(app.port, 'enclave_audit_oldest_unsealed_seconds')).toBe(0);
      expect(await metric(app.port, 'enclave_audit_sealer_lag_seconds')).toBe(0);
      expect(await metric(app.port, 'enclave_audit_sealer_last_round_age_seconds')).toBeLessThan(
        30,
      );
      expect((await realmFetch(`http://127.0.0.1:${app.port}/readyz`)).status).toBe(200);
      expect(app.output()).toContain('audit sealer active');
      await f.stopAudit(app);
    } finally {
      await stalled.end().catch(() => undefined);
    }
  });

  it('no warning while nothing waits longer than the bound', async () => {
    await f.append(2);
    const app = await f.startAudit({ AUDIT_UNSEALED_ALERT_SECONDS: '3600' });
    await until(
      'the events to be sealed',
      async () => (await f.ds.query('SELECT count(*)::int AS n FROM audit_seal_queue'))[0].n === 0,
    );
    await until(
      'a queue check',
      async () => (await metric(app.port, 'enclave_audit_unsealed_events')) !== null,
    );
    expect(app.output()).not.toContain('waiting to be sealed longer than');
    await f.stopAudit(app);
  });
});
