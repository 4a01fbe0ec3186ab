import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { connect as http2Connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiKeysRepository, generateApiKey, UsersRepository } from '@enclave/auth';
import { dataSourceOptions } from '@enclave/db';
import { createLlmSim, type LlmSim } from '../../apps/llm-sim/src/simulator.js';
import { SIM_DEFAULTS } from '../support/chat-harness.js';
import { testConfig } from '../support/config.js';
import { selfSignedCert, TestNginx } from '../support/nginx.js';
import { freePort } from '../support/ports.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

// The shipped nginx site in front of two chat processes; one is SIGKILLed in the middle of 500
// requests (half streamed). Only what was in flight on the killed one may fail, and that leaves
// its record (the assistant message is stored as in_progress before the upstream is called).
Logger.overrideLogger(false);

const CHAT_MAIN = fileURLToPath(new URL('../../dist/apps/chat/src/main.js', import.meta.url));
const TOTAL = 500;
const CONCURRENCY = 16;

interface Outcome {
  ok: boolean;
  status: number;
  detail: string;
}

describe('nginx (deploy/nginx) in front of two chat instances', () => {
  let dir: string;
  let db: TestDatabase;
  let sim: LlmSim;
  let ds: DataSource;
  let nginx: TestNginx;
  let httpsPort: number;
  let ca: Buffer;
  let agent: Agent;
  let apiKey: string;
  const chats: { port: number; child: ChildProcess; stderr: string }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'enclave-nginx-'));
    db = await createTestDatabase();
    // Streams take a while (≈ 24 tokens at 300/s), so some are in flight when the kill comes.
    sim = createLlmSim({ ...SIM_DEFAULTS, tokensPerSec: 300, replyTokens: 24 });
    const simPort = await sim.listen(0);
    const env = {
      PATH: process.env.PATH!,
      ENCLAVE_CONFIG: '',
      DATABASE_URL: db.url,
      ENCLAVE_UPSTREAM_URL: `http://127.0.0.1:${simPort}/v1`,
      ENCLAVE_MASTER_KEY: randomBytes(32).toString('base64'),
      ENCLAVE_DATA_DIR: dir,
      LOG_LEVEL: 'error',
    };
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const child = spawn(process.execPath, [CHAT_MAIN], {
        env: { ...env, CHAT_PORT: String(port) },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const entry = { port, child, stderr: '' };
      child.stderr!.on('data', (d) => (entry.stderr += d));
      chats.push(entry);
    }
    await Promise.all(chats.map((c) => waitReady(c)));

    ds = new DataSource(dataSourceOptions(testConfig({ DATABASE_URL: db.url }), 'test'));
    await ds.initialize();
    const user = await new UsersRepository(ds).insert(ds.manager, {
      email: 'load@example.com',
      role: 'user',
      passwordHash: null,
    });
    const { key, prefix, secretHash } = generateApiKey();
    await new ApiKeysRepository(ds).insert(ds.manager, {
      userId: user.id,
      name: 'load',
      prefix,
      secretHash,
      models: null,
      expiresAt: null,
    });
    apiKey = key;

    const tls = await selfSignedCert(dir);
    ca = readFileSync(tls.cert);
    httpsPort = await freePort();
    nginx = new TestNginx(dir);
    await nginx.render([
      '--chat', chats.map((c) => c.port).join(','),
      '--admin', String(await freePort()),
      '--admin-networks', '10.99.0.0/16',
      '--cert', tls.cert, '--key', tls.key,
      '--https-port', String(httpsPort), '--http-port', String(await freePort()),
      '--listen-address', '127.0.0.1',
      // Every request here comes from 127.0.0.1: let the per-client limit through.
      '--rate', '5000', '--burst', '5000',
    ]); // prettier-ignore
    await nginx.start(httpsPort);
    agent = new Agent({ ca, keepAlive: true, maxSockets: CONCURRENCY });
  }, 90_000);

  afterAll(async () => {
    agent?.destroy();
    await nginx?.stop();
    const running = chats.filter((c) => c.child.exitCode === null && c.child.signalCode === null);
    await Promise.all(running.map((c) => (c.child.kill('SIGKILL'), once(c.child, 'exit'))));
    await ds?.destroy().catch(() => undefined);
    await sim?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes nginx -t', async () => {
    expect(await nginx.check()).toContain('test is successful');
  });

  it('speaks HTTP/2 with TLS 1.3 and sends HSTS and the security headers', async () => {
    const session = http2Connect(`https://127.0.0.1:${httpsPort}`, { ca });
    try {
      const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const req = session.request({ ':path': '/healthz' });
        req.on('response', (h) => {
          req.resume();
          resolve(h);
        });
        req.on('error', reject);
        req.end();
      });
      expect(headers[':status']).toBe(200);
      expect(headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['x-frame-options']).toBe('DENY');
      expect((session.socket as import('node:tls').TLSSocket).getProtocol()).toBe('TLSv1.3');
    } finally {
      session.close();
    }
  });

  it('answers /admin, the admin API and /readyz only to the admin networks', async () => {
    expect((await call('/admin/', 'GET')).status).toBe(403);
    expect((await call('/api/admin/users', 'GET')).status).toBe(403);
    expect((await call('/readyz', 'GET')).status).toBe(403);
    expect((await call('/healthz', 'GET')).status).toBe(200);
  });

  it('keeps serving through a SIGKILLed instance: only its in-flight requests fail, each with a record', async () => {
    const outcomes = new Map<string, Outcome>();
    const inFlight = new Set<string>();
    let inFlightAtKill = new Set<string>();
    let started = 0;
    let done = 0;
    let killed = false;

    const worker = async () => {
      while (started < TOTAL) {
        const n = started++;
        const id = `load-${n}`;
        const stream = n % 2 === 0;
        inFlight.add(id);
        const outcome = await completion(id, stream);
        inFlight.delete(id);
        outcomes.set(id, outcome);
        done++;
        if (!killed && done >= 150) {
          killed = true;
          inFlightAtKill = new Set(inFlight);
          chats[0]!.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    expect(outcomes.size).toBe(TOTAL);
    expect(killed).toBe(true);
    if (chats[0]!.child.signalCode === null) await once(chats[0]!.child, 'exit');
    expect(chats[0]!.child.signalCode).toBe('SIGKILL');
    const failed = [...outcomes].filter(([, o]) => !o.ok);
    // Everything not in flight at the kill succeeded…
    expect(failed.filter(([id]) => !inFlightAtKill.has(id))).toEqual([]);
    expect(inFlightAtKill.size).toBeGreaterThan(0);
    // …and what failed was cut on the killed instance, which had stored the request: mostly mid-
    // answer (in_progress), now and then between committing the finished answer and its last
    // bytes reaching the client through nginx (completed); interrupted once the surviving
    // instance's reconciler has found the killed one gone (30 s without its heartbeat).
    for (const [id] of failed) {
      const rows: { outcome: string }[] = await ds.query(
        `SELECT outcome FROM messages WHERE request_id = $1 AND role = 'assistant'`,
        [id],
      );
      expect({ id, outcomes: rows.map((r) => r.outcome) }).toEqual({
        id,
        outcomes: [expect.stringMatching(/^(in_progress|completed|interrupted)$/)],
      });
    }
    // Every request that reached an instance is on record: 500 distinct request ids. (A stream
    // finished just before the kill may still say in_progress: the chat app sends [DONE] before
    // it commits the finished message.)
    const [{ recorded }] = await ds.query(
      `SELECT count(DISTINCT request_id)::int AS recorded FROM messages
        WHERE role = 'assistant' AND request_id LIKE 'load-%'`,
    );
    expect(recorded).toBe(TOTAL);
  }, 120_000);

  function call(path: string, method: string, body?: string, headers: Record<string, string> = {}) {
    return new Promise<{ status: number; text: string; complete: boolean }>((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: httpsPort,
          path,
          method,
          agent,
          headers,
          servername: 'localhost',
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, text, complete: res.complete }));
          res.on('error', () => resolve({ status: res.statusCode!, text, complete: false }));
          res.on('aborted', () => resolve({ status: res.statusCode!, text, complete: false }));
        },
      );
      req.on('error', (err) => resolve({ status: 0, text: err.message, complete: false }));
      req.setTimeout(30_000, () => req.destroy(new Error('client timeout')));
      req.end(body);
    });
  }

  async function completion(id: string, stream: boolean): Promise<Outcome> {
    const body = JSON.stringify({
      model: 'enclave-sim',
      stream,
      messages: [{ role: 'user', content: `hello ${id}` }],
    });
    const res = await call('/v1/chat/completions', 'POST', body, {
      authorization: `Bearer ${apiKey}`,
      'content-type': 'application/json',
      'x-request-id': id,
    });
    const ok =
      res.status === 200 &&
      res.complete &&
      (stream
        ? res.text.trimEnd().endsWith('data: [DONE]')
        : JSON.parse(res.text).choices?.[0]?.message?.content?.length > 0);
    return { ok, status: res.status, detail: res.text.slice(-200) };
  }
});

async function waitReady(chat: { port: number; child: ChildProcess; stderr: string }) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (chat.child.exitCode !== null) throw new Error(`chat exited: ${chat.stderr}`);
    try {
      if ((await fetch(`http://127.0.0.1:${chat.port}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`chat on ${chat.port} was not ready: ${chat.stderr}`);
}
