import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiKeysRepository, generateApiKey, UsersRepository } from '@enclave/auth';
import { dataSourceOptions } from '@enclave/db';
import { createLlmSim, type LlmSim } from '../../apps/llm-sim/src/simulator.js';
import { SIM_DEFAULTS } from '../support/chat-harness.js';
import { testConfig } from '../support/config.js';
import { asPostgres, DEPLOY_POSTGRES } from '../support/pg-cluster.js';
import { PatroniCluster } from '../support/patroni-cluster.js';
import { freePort } from '../support/ports.js';

// 3 etcd members and 2 Patroni nodes made with the shipped kit (deploy/patroni), synchronous mode
// (non-strict), TLS to Postgres. A chat process (the built app) writes completions through
// ENCLAVE_PATRONI_URLS while the leader's Patroni and Postgres are SIGKILLed: Patroni promotes the
// synchronous standby, the app finds it by itself, nothing acknowledged is lost, and the old
// leader comes back as a replica by itself (pg_rewind through Patroni). Then the only standby
// stops and writes go on (non-strict synchronous mode degrades to asynchronous).
Logger.overrideLogger(false);

const run = promisify(execFile);
const ENCLAVE = fileURLToPath(new URL('../../scripts/enclave.mjs', import.meta.url));
const CHAT_MAIN = fileURLToPath(new URL('../../dist/apps/chat/src/main.js', import.meta.url));
const WRITERS = 3;
// Bounded waits: how long a failover may take before the test gives up (not an assertion on speed).
const GIVE_UP_MS = 60_000;

interface Outcome {
  id: string;
  status: number;
  code: string | null;
  /** When the request was sent, and when its answer came back. */
  sentAt: number;
  at: number;
}

describe('Patroni cluster under chat load (deploy/patroni)', () => {
  let cluster: PatroniCluster;
  let sim: LlmSim;
  let dir: string;
  let chat: { port: number; child: ChildProcess; stderr: string } | undefined;
  let ds: DataSource | undefined;
  let apiKey: string;
  const outcomes: Outcome[] = [];
  let seq = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'enclave-patroni-chat-'));
    cluster = await PatroniCluster.start(2);
    sim = createLlmSim({ ...SIM_DEFAULTS, replyTokens: 8 });
    const simPort = await sim.listen(0);
    const env = {
      DATABASE_URL: cluster.appUrl(),
      ENCLAVE_PATRONI_URLS: cluster.restUrls.join(','),
      DATABASE_POOL_SIZE: '4',
    };
    const port = await freePort();
    const child = spawn(process.execPath, [CHAT_MAIN], {
      env: {
        PATH: process.env.PATH!,
        ENCLAVE_CONFIG: '',
        ...env,
        ENCLAVE_UPSTREAM_URL: `http://127.0.0.1:${simPort}/v1`,
        ENCLAVE_MASTER_KEY: randomBytes(32).toString('base64'),
        ENCLAVE_DATA_DIR: dir,
        CHAT_PORT: String(port),
        LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    chat = { port, child, stderr: '' };
    child.stderr!.on('data', (d) => (chat!.stderr += d));
    await waitReady(chat);

    ds = new DataSource(dataSourceOptions(testConfig(env), 'test'));
    await ds.initialize();
    const user = await new UsersRepository(ds).insert(ds.manager, {
      email: 'failover@example.com',
      role: 'user',
      passwordHash: null,
    });
    const key = generateApiKey();
    await new ApiKeysRepository(ds).insert(ds.manager, {
      userId: user.id,
      name: 'failover',
      prefix: key.prefix,
      secretHash: key.secretHash,
      models: null,
      expiresAt: null,
    });
    apiKey = key.key;
  }, 180_000);

  afterAll(async () => {
    if (chat && chat.child.exitCode === null && chat.child.signalCode === null) {
      chat.child.kill('SIGKILL');
      await once(chat.child, 'exit');
    }
    await ds?.destroy().catch(() => undefined);
    await sim?.close();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** Writers send completions until `until()` says stop; each outcome is recorded. */
  async function load(until: () => boolean): Promise<void> {
    const writer = async () => {
      while (!until()) {
        const outcome = await completion(`pf-${seq++}`);
        outcomes.push(outcome);
        if (outcome.status !== 200) await new Promise((r) => setTimeout(r, 200));
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, writer));
  }

  const acked = () => outcomes.filter((o) => o.status === 200).map((o) => o.id);

  /** Request ids among `ids` that lack their completed message or audit event on node `name`. */
  async function missingOn(name: string, ids: string[]): Promise<string[]> {
    const list = ids.map((id) => `'${id}'`).join(',');
    const have = async (sql: string) => new Set((await cluster.psql(name, sql)).split('\n'));
    const messages = await have(
      `SELECT request_id FROM messages WHERE role = 'assistant' AND outcome = 'completed' AND request_id IN (${list})`,
    );
    const events = await have(
      `SELECT request_id FROM audit_events WHERE action = 'chat.completion' AND request_id IN (${list})`,
    );
    return ids.filter((id) => !messages.has(id) || !events.has(id));
  }

  it('fails over on kill -9 of the leader: writes resume, nothing acknowledged is lost, the old leader rejoins', async () => {
    const oldLeader = (await cluster.leader())!;
    expect(oldLeader).not.toBeNull();
    let killedAt = 0;
    let stopAfter = Infinity;
    const running = load(
      () =>
        outcomes.length >= stopAfter || (killedAt > 0 && Date.now() - killedAt > 2 * GIVE_UP_MS),
    );
    await cluster.waitFor(async () => acked().length >= 30, '30 completions before the kill');

    await cluster.killNode(oldLeader.name);
    killedAt = Date.now();
    await cluster.waitFor(
      async () => outcomes.some((o) => o.status === 200 && o.sentAt > killedAt),
      'a completion acknowledged after the kill',
      GIVE_UP_MS,
    );
    const recoveredAt = Math.min(
      ...outcomes.filter((o) => o.status === 200 && o.sentAt > killedAt).map((o) => o.at),
    );
    stopAfter = outcomes.length + 30;
    await running;

    const newLeader = (await cluster.leader())!;
    expect(newLeader.name).not.toBe(oldLeader.name);
    // What clients were refused meanwhile was refused as "database away", never a 500.
    const refused = outcomes.filter((o) => o.status !== 200);
    expect(refused.filter((o) => o.status !== 503 || o.code !== 'database_unavailable')).toEqual(
      [],
    );
    // RPO 0: every completion a client was told about is on the new leader with its audit event.
    // (A chat process may spool records while the database is away and write them once it is
    // back: give the spool a bounded while to drain.)
    const ids = acked();
    await cluster
      .waitFor(async () => (await missingOn(newLeader.name, ids)).length === 0, 'the spool')
      .catch(() => undefined);
    expect(await missingOn(newLeader.name, ids)).toEqual([]);
    console.log(
      `patroni failover: ${recoveredAt - killedAt} ms from kill -9 to the next acknowledged completion; ${ids.length} acknowledged, ${refused.length} refused with 503`,
    );

    // The old leader comes back as a replica by itself once its machine is up again.
    cluster.startNode(oldLeader.name);
    await cluster.waitFor(
      async () =>
        (await cluster.members()).some(
          (m) => m.name === oldLeader.name && m.state === 'running' && m.role === 'sync_standby',
        ),
      'the old leader to rejoin as synchronous standby',
      120_000,
    );
    expect(await cluster.psql(oldLeader.name, 'SELECT pg_is_in_recovery()')).toBe('t');
    // Its rejoin (pg_rewind if needed) discarded nothing acknowledged: no write had landed on it
    // after it stopped leading. It replays the new leader's history, every acknowledged row included.
    await cluster.waitFor(
      async () => (await missingOn(oldLeader.name, ids)).length === 0,
      'the rejoined replica to have every acknowledged completion',
    );
  }, 300_000);

  it('switches over on request (patronictl switchover): the app follows, nothing acknowledged is lost', async () => {
    const leader = (await cluster.leader())!;
    const candidate = cluster.nodes.find((n) => n.name !== leader.name)!;
    const before = outcomes.length;
    let switched = false;
    const running = load(
      () =>
        (switched && outcomes.slice(before).filter((o) => o.status === 200).length >= 30) ||
        outcomes.length - before > 400,
    );
    await cluster.patronictl(leader.name, [
      ...['switchover', '--leader', leader.name, '--candidate', candidate.name, '--force'],
    ]);
    await cluster.waitFor(
      async () => (await cluster.leader())?.name === candidate.name,
      `${candidate.name} to lead`,
      GIVE_UP_MS,
    );
    switched = true;
    await running;
    const ackTimes = outcomes
      .slice(before)
      .filter((o) => o.status === 200)
      .map((o) => o.at);
    const gaps = ackTimes.slice(1).map((t, i) => t - ackTimes[i]!);
    console.log(
      `patroni switchover: longest pause between acknowledged completions ${Math.max(...gaps)} ms`,
    );
    expect(outcomes.slice(before).filter((o) => o.status === 200).length).toBeGreaterThanOrEqual(
      30,
    );
    // Answers given while the old leader stepped down may wait in the chat process's spool.
    const ids = acked();
    await cluster
      .waitFor(async () => (await missingOn(candidate.name, ids)).length === 0, 'the spool')
      .catch(() => undefined);
    expect(await missingOn(candidate.name, ids)).toEqual([]);
    // The old leader is demoted, not stopped: it follows the new one as synchronous standby.
    await cluster.waitFor(
      async () =>
        (await cluster.members()).some(
          (m) => m.name === leader.name && m.state === 'running' && m.role === 'sync_standby',
        ),
      'the old leader to follow as synchronous standby',
      GIVE_UP_MS,
    );
  }, 180_000);

  it('rebuilds a replica from the leader (deploy/postgres/rejoin.sh → patronictl reinit)', async () => {
    const leader = (await cluster.leader())!;
    const replica = cluster.nodes.find((n) => n.name !== leader.name)!;
    const startedAt = () => postmasterStart(replica.restPort);
    const before = await startedAt();
    await asPostgres(join(DEPLOY_POSTGRES, 'rejoin.sh'), [
      ...['--config', replica.config, '--member', replica.name],
    ]);
    // reinit runs in the background: wait for a new Postgres (copied afresh) that streams again.
    await cluster.waitFor(
      async () =>
        ![null, before].includes(await startedAt()) &&
        (await cluster.members()).some(
          (m) => m.name === replica.name && m.state === 'running' && m.role === 'sync_standby',
        ),
      'the rebuilt replica to stream synchronously again',
      GIVE_UP_MS,
    );
    await cluster.waitFor(
      async () => (await missingOn(replica.name, acked())).length === 0,
      'the rebuilt replica to have every acknowledged completion',
    );
  }, 120_000);

  it('`enclave doctor` reports the leader, the synchronous standby and its lag', async () => {
    const leader = (await cluster.leader())!;
    const { stdout } = await run(
      process.execPath,
      [
        ENCLAVE,
        'doctor',
        '--cert',
        join(dir, 'none.crt'),
        '--pgbackrest-config',
        join(dir, 'none.conf'),
      ],
      {
        env: {
          PATH: process.env.PATH!,
          ENCLAVE_CONFIG: '',
          DATABASE_URL: cluster.appUrl(),
          ENCLAVE_PATRONI_URLS: cluster.restUrls.join(','),
          ENCLAVE_UPSTREAM_URL: `http://127.0.0.1:${await freePort()}/v1`,
        },
        timeout: 60_000,
      },
    ).catch((err: { stdout: string }) => ({ stdout: err.stdout }));
    expect(stdout).toMatch(
      new RegExp(
        `ok +patroni: leader ${leader.name} \\(127\\.0\\.0\\.1:${leader.pgPort}\\) running`,
      ),
    );
    expect(stdout).toMatch(/ok +patroni: synchronous standby pg\d running, lag \d+ bytes/);
    expect(stdout).toMatch(/ok +patroni: synchronous replication: every commit is on two servers/);
    expect(stdout).toMatch(/WARN backup: no pgBackRest configuration at/);
  }, 90_000);

  it('keeps writing when the only standby stops (non-strict synchronous mode)', async () => {
    const leader = (await cluster.leader())!;
    const standby = cluster.nodes.find((n) => n.name !== leader.name)!;
    await cluster.stopNode(standby.name);
    const stoppedAt = Date.now();
    const before = outcomes.length;
    await load(
      () =>
        outcomes.slice(before).filter((o) => o.status === 200).length >= 20 ||
        Date.now() - stoppedAt > GIVE_UP_MS,
    );
    const after = outcomes.slice(before);
    const firstAck = after.find((o) => o.status === 200 && o.sentAt > stoppedAt);
    console.log(
      `patroni lost standby: first acknowledged completion ${firstAck ? firstAck.at - stoppedAt : 'none'} ms after the stop; ${after.filter((o) => o.status !== 200).length} refused`,
    );
    expect(after.filter((o) => o.status === 200).length).toBeGreaterThanOrEqual(20);
    // Patroni dropped the synchronous standby instead of freezing commits.
    expect(await cluster.psql(leader.name, 'SHOW synchronous_standby_names', 'postgres')).toBe('');
    expect(await missingOn(leader.name, acked())).toEqual([]);
  }, 120_000);

  async function completion(id: string): Promise<Outcome> {
    const sentAt = Date.now();
    try {
      const res = await fetch(`http://127.0.0.1:${chat!.port}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${apiKey}`,
          'content-type': 'application/json',
          'x-request-id': id,
        },
        body: JSON.stringify({
          model: 'enclave-sim',
          messages: [{ role: 'user', content: `hello ${id}` }],
        }),
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await res.json().catch(() => ({}))) as {
        error?: { code?: string };
        choices?: unknown[];
      };
      const ok = res.status === 200 && (body.choices?.length ?? 0) > 0;
      // A 200 without an answer counts as a failure (-1), never as acknowledged.
      const status = ok ? 200 : res.status === 200 ? -1 : res.status;
      return { id, status, code: body.error?.code ?? null, sentAt, at: Date.now() };
    } catch (err) {
      return { id, status: 0, code: (err as Error).message, sentAt, at: Date.now() };
    }
  }
});

/** When the node's Postgres was started, as its Patroni reports it. */
async function postmasterStart(restPort: number): Promise<string | null> {
  const res = await fetch(`http://127.0.0.1:${restPort}/patroni`, {
    signal: AbortSignal.timeout(2_000),
  });
  const body = (await res.json()) as { state?: string; postmaster_start_time?: string };
  // Only a running server counts: while reinit copies, the old start time may still be reported.
  return body.state === 'running' ? (body.postmaster_start_time ?? null) : null;
}

async function waitReady(chat: { port: number; child: ChildProcess; stderr: string }) {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (chat.child.exitCode !== null) throw new Error(`chat exited: ${chat.stderr}`);
    try {
      if ((await fetch(`http://127.0.0.1:${chat.port}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`chat on ${chat.port} was not ready: ${chat.stderr}`);
}
