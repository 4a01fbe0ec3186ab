import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { generateSigningKey, verifyDatabaseChain } from '@enclave/audit-chain';
import { sqlOfClient } from '@enclave/db';
import { generateApiKey } from '@enclave/auth';
import { createLlmSim, type LlmSim } from '../apps/llm-sim/src/simulator.js';
import { sealAll } from '../libs/audit-chain/test/chain-fixture.js';
import { SIM_DEFAULTS } from './support/chat-harness.js';
import { asPostgres, PGBIN, postgresOwnedDir, TempCluster } from './support/pg-cluster.js';
import { freePort } from './support/ports.js';

// Days of uptime (issue 24): what a Postgres restart under load and a chat process killed
// mid-answer leave on record. The chat apps run as built processes (`npm test` builds first) on a
// Postgres server of this test's own, which it restarts; the shared test cluster is not touched.
const CHAT_MAIN = fileURLToPath(new URL('../dist/apps/chat/src/main.js', import.meta.url));
const PROMPT = [{ role: 'user', content: 'tell me something' }];

interface Chat {
  child: ChildProcess;
  url: string;
  output: () => string;
}

let tmp: string;
let cluster: TempCluster;
let databaseUrl: string;
let fastSim: LlmSim;
let slowSim: LlmSim;
let fastUrl: string;
let slowUrl: string;
const running: Chat[] = [];

async function startChat(port: number, upstream: string, database = databaseUrl): Promise<Chat> {
  const child = spawn(process.execPath, [CHAT_MAIN], {
    env: {
      PATH: process.env.PATH,
      ENCLAVE_CONFIG: '',
      CHAT_PORT: String(port),
      DATABASE_URL: database,
      DATABASE_POOL_SIZE: '10',
      ENCLAVE_UPSTREAM_URL: upstream,
      ENCLAVE_DATA_DIR: join(tmp, 'data'),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const chat = { child, url: `http://127.0.0.1:${port}`, output: () => out };
  running.push(chat);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`chat exited: ${out}`);
    try {
      if ((await fetch(`${chat.url}/readyz`)).ok) return chat;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`chat did not become ready: ${out}`);
}

async function kill(chat: Chat, signal: NodeJS.Signals): Promise<void> {
  if (chat.child.exitCode !== null || chat.child.signalCode !== null) return;
  chat.child.kill(signal);
  await once(chat.child, 'exit');
}

async function query<T = Record<string, unknown>>(
  sql: string,
  params: unknown[] = [],
  database = databaseUrl,
) {
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

async function newKey(email: string, database = databaseUrl): Promise<string> {
  const { key, prefix, secretHash } = generateApiKey();
  const [user] = await query<{ id: string }>(
    `INSERT INTO users (email, role) VALUES ($1, 'user') RETURNING id`,
    [email],
    database,
  );
  await query(
    `INSERT INTO api_keys (user_id, name, prefix, secret_hash) VALUES ($1, 'uptime', $2, $3)`,
    [user!.id, prefix, secretHash],
    database,
  );
  return key;
}

/** What is on record for each request id: messages by outcome, and chat.completion events. */
async function records(ids: string[], database = databaseUrl) {
  return query<{ id: string; messages: number; outcomes: string[]; events: number }>(
    `SELECT r.id,
            (SELECT count(*)::int FROM messages m WHERE m.request_id = r.id) AS messages,
            (SELECT array_agg(m.outcome) FROM messages m WHERE m.request_id = r.id) AS outcomes,
            (SELECT count(*)::int FROM audit_events e
              WHERE e.request_id = r.id AND e.action = 'chat.completion') AS events
       FROM unnest($1::text[]) AS r(id)`,
    [ids],
    database,
  );
}

const closedOutcomes = new Set([
  'completed',
  'failed',
  'interrupted',
  'upstream_error',
  'client_disconnected',
]);

async function eachRecordedOnce(
  ids: string[],
  ms: number,
  database = databaseUrl,
): Promise<string[]> {
  const deadline = Date.now() + ms;
  let missing: string[] = [];
  while (Date.now() < deadline) {
    const rows = await records(ids, database).catch(() => null);
    if (rows) {
      missing = rows
        .filter(
          (r) => r.messages !== 1 || r.events !== 1 || !closedOutcomes.has(r.outcomes?.[0] ?? ''),
        )
        .map((r) => `${r.id}: ${r.messages} messages ${r.outcomes} ${r.events} events`);
      if (!missing.length) return [];
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return missing;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'enclave-uptime-'));
  chmodSync(tmp, 0o755); // the postgres user reaches its directory through it
  const root = postgresOwnedDir(join(tmp, 'pg'));
  const port = await freePort();
  cluster = await TempCluster.init(join(root, 'data'), postgresOwnedDir(join(root, 'sock')), port);
  await cluster.start();
  await cluster.psql(`ALTER USER postgres PASSWORD 'uptime'`);
  await cluster.psql('CREATE DATABASE enclave');
  databaseUrl = `postgres://postgres:uptime@127.0.0.1:${port}/enclave`;
  fastSim = createLlmSim({ ...SIM_DEFAULTS, ttftMs: 5, tokensPerSec: 0, replyTokens: 12 });
  fastUrl = `http://127.0.0.1:${await fastSim.listen(0)}/v1`;
  // Streams that last ~10 s, to be cut by a SIGKILL.
  slowSim = createLlmSim({ ...SIM_DEFAULTS, ttftMs: 0, tokensPerSec: 5, replyTokens: 50 });
  slowUrl = `http://127.0.0.1:${await slowSim.listen(0)}/v1`;
}, 120_000);

afterAll(async () => {
  for (const chat of running) await kill(chat, 'SIGKILL');
  await Promise.all([fastSim?.close(), slowSim?.close()]);
  await cluster?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('a Postgres restart under load', () => {
  it('leaves every request id with one message and one audit event, never a 500, and a chain that verifies', async () => {
    const chat = await startChat(await freePort(), fastUrl);
    const key = await newKey('load@example.com');
    const sent: string[] = [];
    const answers: {
      id: string;
      status: number;
      code: string | null;
      retryAfter: string | null;
    }[] = [];
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const id = `load-${w}-${i}`;
        sent.push(id);
        const res = await fetch(`${chat.url}/v1/chat/completions`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${key}`,
            'content-type': 'application/json',
            'x-request-id': id,
          },
          body: JSON.stringify({ model: 'enclave-sim', messages: PROMPT, stream: i % 2 === 1 }),
        });
        const text = await res.text();
        const code = res.ok ? null : ((JSON.parse(text).error?.code as string) ?? null);
        answers.push({ id, status: res.status, code, retryAfter: res.headers.get('retry-after') });
      }
    };
    const workers = Array.from({ length: 16 }, (_, w) => worker(w));
    const until = async (n: number) => {
      const deadline = Date.now() + 30_000;
      while (answers.length < n && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
    };
    await until(100);
    await asPostgres(`${PGBIN}/pg_ctl`, [
      '-D',
      cluster.dataDir,
      '-m',
      'fast',
      '-w',
      '-l',
      `${cluster.dataDir}.log`,
      'restart',
    ]);
    const afterRestart = answers.length;
    await until(afterRestart + 200);
    stop = true;
    await Promise.all(workers);

    expect(answers.filter((a) => a.status >= 500 && a.code !== 'database_unavailable')).toEqual([]);
    for (const refused of answers.filter((a) => a.status === 503)) {
      expect(refused.retryAfter).not.toBeNull();
    }
    expect(answers.every((a) => a.status === 200 || a.status === 503)).toBe(true);

    const missing = await eachRecordedOnce(sent, 30_000);
    if (missing.length) {
      console.log(
        answers.filter((a) => missing.some((m) => m.startsWith(`${a.id}:`))),
        chat.output().slice(-5000),
      );
    }
    expect(missing).toEqual([]);
    const metrics = await (await fetch(`${chat.url}/metrics`)).text();
    expect(metrics).toMatch(/^enclave_spool_entries\{[^}]*\} 0$/m);
    const spooled = Number(/^enclave_spool_appended_total\{[^}]*\} (\d+)/m.exec(metrics)?.[1]);
    const refused = answers.filter((a) => a.status === 503).length;
    // The restart did land among the requests: some were refused or had their record spooled.
    expect(spooled + refused).toBeGreaterThan(0);

    const signing = generateSigningKey(join(tmp, 'signing-key.pem'));
    await sealAll(databaseUrl, signing, 1_000);
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const verdict = await verifyDatabaseChain(sqlOfClient(client), signing.publicKey);
      expect(verdict).toMatchObject({ ok: true, unsealed: 0 });
      expect(verdict.events).toBeGreaterThanOrEqual(sent.length);
    } finally {
      await client.end();
    }
    await kill(chat, 'SIGTERM');
  }, 180_000);
});

describe('a chat process killed mid-stream', () => {
  it('leaves its streams in_progress, and its restart closes them as interrupted with an audit event each', async () => {
    // A database of its own: the backend seeded from ENCLAVE_UPSTREAM_URL is the slow simulator.
    await cluster.psql('CREATE DATABASE killed');
    const killedDb = databaseUrl.replace(/\/enclave$/, '/killed');
    const port = await freePort();
    let chat = await startChat(port, slowUrl, killedDb);
    const key = await newKey('killed@example.com', killedDb);
    const ids = Array.from({ length: 5 }, (_, i) => `killed-${i}`);
    const streams = ids.map(async (id) => {
      const res = await fetch(`${chat.url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'x-request-id': id,
        },
        body: JSON.stringify({ model: 'enclave-sim', messages: PROMPT, stream: true }),
      });
      const reader = res.body!.getReader();
      await reader.read(); // the first bytes: the answer is under way
      return reader;
    });
    const readers = await Promise.all(streams);
    await kill(chat, 'SIGKILL');
    for (const r of readers) await r.cancel().catch(() => undefined);

    // Killed mid-answer: the request is on record, in progress, not yet with an audit event.
    const before = await records(ids, killedDb);
    expect(before.map((r) => [r.messages, r.outcomes, r.events])).toEqual(
      ids.map(() => [1, ['in_progress'], 0]),
    );

    chat = await startChat(port, slowUrl, killedDb);
    expect(await eachRecordedOnce(ids, 20_000, killedDb)).toEqual([]);
    const closed = await query<{ outcome: string; reason: string; audit: string }>(
      `SELECT m.outcome, e.payload->>'reason' AS reason, e.outcome AS audit
         FROM messages m JOIN audit_events e ON e.target_id = m.id::text
        WHERE m.request_id = ANY($1::text[]) AND e.action = 'chat.completion'`,
      [ids],
      killedDb,
    );
    expect(closed).toEqual(
      ids.map(() => ({ outcome: 'interrupted', reason: 'process_gone', audit: 'failure' })),
    );
    await kill(chat, 'SIGTERM');
  }, 180_000);
});

describe('records spooled while the database is down', () => {
  it('answer 503 with Retry-After, survive a SIGKILL of the process, and reach the database after its restart', async () => {
    await cluster.psql('CREATE DATABASE spooled');
    const spooledDb = databaseUrl.replace(/\/enclave$/, '/spooled');
    const port = await freePort();
    let chat = await startChat(port, fastUrl, spooledDb);
    const key = await newKey('spooled@example.com', spooledDb);
    const ask = (id: string) =>
      fetch(`${chat.url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'x-request-id': id,
        },
        body: JSON.stringify({ model: 'enclave-sim', messages: PROMPT }),
      });
    expect((await ask('spooled-warm')).status).toBe(200); // the key is now cached

    await asPostgres(`${PGBIN}/pg_ctl`, ['-D', cluster.dataDir, '-m', 'fast', '-w', 'stop']);
    const ids = Array.from({ length: 5 }, (_, i) => `spooled-${i}`);
    for (const id of ids) {
      const res = await ask(id);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
        'database_unavailable',
      );
    }
    const metrics = await (await fetch(`${chat.url}/metrics`)).text();
    expect(metrics).toMatch(/^enclave_spool_entries\{[^}]*\} 5$/m);
    await kill(chat, 'SIGKILL');

    await cluster.start();
    chat = await startChat(port, fastUrl, spooledDb);
    expect(await eachRecordedOnce(ids, 20_000, spooledDb)).toEqual([]);
    const rows = await query<{ outcome: string; errorCode: string }>(
      `SELECT m.outcome, e.payload->>'errorCode' AS "errorCode"
         FROM messages m JOIN audit_events e ON e.target_id = m.id::text
        WHERE m.request_id = ANY($1::text[]) AND e.action = 'chat.completion'`,
      [ids],
      spooledDb,
    );
    expect(rows).toEqual(ids.map(() => ({ outcome: 'failed', errorCode: 'database_unavailable' })));
    await kill(chat, 'SIGTERM');
  }, 180_000);
});
