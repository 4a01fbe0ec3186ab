import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { notifyConfigChanged } from '@enclave/db';
import { ApiError } from '@enclave/http';
import { BackendsRepository, UpstreamPool } from '@enclave/llm';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { AdminAppModule } from '../../../apps/admin/src/admin.module.js';
import { startApp } from '../../../test/support/app.js';
import { ChatHarness } from '../../../test/support/chat-harness.js';
import { parsePrometheusText } from '../../../test/support/prometheus.js';

// What Enclave does when something goes wrong around the upstream call: its own failures are
// never blamed on a backend, a backend failing real traffic shows as unhealthy, a busy pool
// makes requests wait, and a client that leaves is recorded as having left.

const PROMPT = [{ role: 'user' as const, content: 'Say something.' }];

async function addBackend(
  h: ChatHarness,
  name: string,
  baseUrl: string,
  opts: { weight?: number; timeoutMs?: number; maxConcurrent?: number; models?: string[] } = {},
) {
  await h.dataSource.transaction(async (db) => {
    await h.app.get(BackendsRepository).insert(db, {
      name,
      baseUrl,
      apiKeySealed: null,
      models: opts.models ?? null,
      weight: opts.weight ?? 1,
      maxConcurrent: opts.maxConcurrent ?? 256,
      timeoutMs: opts.timeoutMs ?? 60_000,
      enabled: true,
    });
    await notifyConfigChanged(db, 'backends');
  });
  await h.app.get(UpstreamPool).reload();
}

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

async function waitFor(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

/** A JSON text nesting `depth` objects (JSON.stringify itself could not write it). */
function nestedJson(depth: number): string {
  return '{"a":'.repeat(depth) + '"leaf"' + '}'.repeat(depth);
}

function post(h: ChatHarness, key: string, body: unknown, signal?: AbortSignal) {
  return fetch(`${h.baseURL}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  });
}

async function settled(h: ChatHarness, userId: string) {
  await waitFor(
    async () =>
      (await h.count(
        "SELECT 1 FROM messages WHERE user_id = $1 AND role = 'assistant' AND outcome <> 'in_progress'",
        [userId],
      )) > 0,
    5_000,
  );
  const [message] = await h.dataSource.query(
    "SELECT outcome FROM messages WHERE user_id = $1 AND role = 'assistant'",
    [userId],
  );
  const events = await h.dataSource.query(
    `SELECT outcome, payload->>'outcome' AS "messageOutcome", payload->>'errorCode' AS "errorCode"
       FROM audit_events WHERE action = 'chat.completion' AND actor_id = $1`,
    [userId],
  );
  return { message, events };
}

describe('a failure inside Enclave is not an upstream failure', () => {
  let h: ChatHarness;
  beforeAll(async () => {
    h = await ChatHarness.start({}, { ENCLAVE_HEALTH_INTERVAL_MS: '600000' });
  });
  afterAll(async () => {
    await h.stop();
  });

  const circuits = () =>
    h.app
      .get(UpstreamPool)
      .status()
      .map((b) => ({ name: b.name, circuitOpen: b.circuitOpen, state: b.state }));

  it('a body that cannot be serialised reaches no backend, is not retried and trips no breaker', async () => {
    const pool = h.app.get(UpstreamPool);
    const deep = {
      model: 'enclave-sim',
      messages: [{ role: 'user', content: 'hi', extra: nested(100_000) }],
    } as unknown as ChatCompletionCreateParams;
    const big = {
      model: 'enclave-sim',
      messages: [{ role: 'user', content: 'hi', extra: 10n }],
    } as unknown as ChatCompletionCreateParams;
    for (let i = 0; i < 5; i++) {
      const tooDeep = await pool.chat(deep, new AbortController().signal).catch((e) => e);
      expect(tooDeep).toBeInstanceOf(ApiError);
      expect(tooDeep.getStatus()).toBe(400);
      expect(tooDeep.code).toBe('invalid_body');
      expect(tooDeep.message).not.toMatch(/RangeError|call stack/);
      const bug = await pool.chatStream(big, new AbortController().signal).catch((e) => e);
      expect(bug).toBeInstanceOf(ApiError);
      expect(bug.getStatus()).toBe(500);
      expect(bug.code).toBe('internal_error');
      expect(bug.message).not.toMatch(/BigInt|TypeError/);
    }
    expect(circuits()).toEqual(
      pool.status().map((b) => ({ name: b.name, circuitOpen: false, state: 'healthy' })),
    );
    expect(pool.status().every((b) => b.outstanding === 0)).toBe(true);
  });

  it('deeply nested requests get a 4xx without internal text; another user is served right after', async () => {
    const mallory = await h.user('mallory@example.com');
    const alice = await h.user('alice@example.com');
    for (let i = 0; i < 3; i++) {
      const res = await post(
        h,
        mallory.key,
        // The third is deterministic: the response cache's key is computed from it too.
        `{"model":"enclave-sim",${i === 2 ? '"temperature":0,' : ''}"messages":[{"role":"user","content":"hi","extra":${nestedJson(5_000)}}]}`,
      );
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      const text = await res.text();
      expect(JSON.parse(text).error.code).toBe('invalid_body');
      expect(text).not.toMatch(/RangeError|Maximum call stack/);
    }
    const ok = await alice.client.chat.completions.create({
      model: 'enclave-sim',
      messages: PROMPT,
    });
    expect(ok.choices[0]!.message.content).toBeTruthy();
    expect(circuits().every((b) => !b.circuitOpen && b.state === 'healthy')).toBe(true);
  });
});

describe('passive health', () => {
  let h: ChatHarness;
  let admin: INestApplication;
  let adminKey: string;
  beforeAll(async () => {
    // Active checks every 200 ms: GET /v1/models keeps answering, so only the passive path
    // can tell that completions fail.
    h = await ChatHarness.start({}, { ENCLAVE_HEALTH_INTERVAL_MS: '200' });
    admin = await startApp(AdminAppModule.forRoot(h.config), h.config);
    adminKey = (await h.user('root@example.com', { role: 'admin' })).key;
  });
  afterAll(async () => {
    await admin.close();
    await h.stop();
  });

  it('a backend failing every completion turns unhealthy on /metrics and the dashboard API', async () => {
    const bad = await h.extraSim({ errorRate: 1, errorStatus: 500 });
    await addBackend(h, 'bad', bad.url, { weight: 100 });
    const u = await h.user('traffic@example.com');
    for (let i = 0; i < 6; i++) {
      // Failed over to the good backend: the users see nothing wrong.
      const res = await u.client.chat.completions.create({
        model: 'enclave-sim',
        messages: PROMPT,
        stream: i % 2 === 1,
      });
      if (i % 2 === 1) for await (const _ of res as AsyncIterable<unknown>) void _;
    }
    const metrics = parsePrometheusText(
      (await request(h.app.getHttpServer()).get('/metrics').expect(200)).text,
    );
    expect(metrics.value('enclave_backend_healthy', { backend: 'bad' })).toBe(0);

    const dashboard = async () => {
      const res = await request(admin.getHttpServer())
        .get('/api/admin/dashboard')
        .set('authorization', `Bearer ${adminKey}`)
        .expect(200);
      return (res.body.backends as { name: string; healthy: boolean; state: string }[]).find(
        (b) => b.name === 'bad',
      );
    };
    // The admin process saw no traffic of its own (its active check of `bad` passes): what it
    // shows comes from the chat process's report.
    expect(await waitFor(async () => (await dashboard())?.state === 'unhealthy', 5_000)).toBe(true);
    expect(await dashboard()).toMatchObject({ healthy: false, state: 'unhealthy' });
    expect(
      admin
        .get(UpstreamPool)
        .status()
        .find((b) => b.name === 'bad')?.healthy,
    ).toBe(true);
    // Several health checks later it still shows: a passing GET /v1/models does not clear it.
    await new Promise((r) => setTimeout(r, 600));
    expect(await dashboard()).toMatchObject({ healthy: false, state: 'unhealthy' });
  });
});

describe('passive health of a backend that never answers in time', () => {
  let h: ChatHarness;
  afterAll(async () => {
    await h.stop();
  });

  it('turns unhealthy on /metrics while its GET /v1/models keeps answering', async () => {
    h = await ChatHarness.start({}, { ENCLAVE_HEALTH_INTERVAL_MS: '200' });
    const slow = await h.extraSim({ stallRate: 1, stallMs: 0 });
    await addBackend(h, 'slow', slow.url, { weight: 100, timeoutMs: 200 });
    const u = await h.user('patient@example.com');
    for (let i = 0; i < 3; i++) {
      await u.client.chat.completions.create({ model: 'enclave-sim', messages: PROMPT });
    }
    const metrics = parsePrometheusText(
      (await request(h.app.getHttpServer()).get('/metrics').expect(200)).text,
    );
    expect(metrics.value('enclave_backend_healthy', { backend: 'slow' })).toBe(0);
    expect(
      h.app
        .get(UpstreamPool)
        .status()
        .find((b) => b.name === 'slow'),
    ).toMatchObject({
      state: 'unhealthy',
      healthy: false,
      lastError: 'upstream_timeout',
    });
  });
});

describe('a pool at its concurrency cap', () => {
  let h: ChatHarness;
  afterEach(async () => {
    await h.stop();
  });

  it('makes requests wait for a free slot instead of refusing them', async () => {
    h = await ChatHarness.start({ ttftMs: 150 }, { ENCLAVE_HEALTH_INTERVAL_MS: '600000' });
    await h.dataSource.query('UPDATE backends SET max_concurrent = 1, updated_at = now()');
    await h.app.get(UpstreamPool).reload();
    const u = await h.user('queue@example.com');
    const answers = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        u.client.chat.completions.create({
          model: 'enclave-sim',
          messages: [{ role: 'user', content: `question ${i}` }],
        }),
      ),
    );
    expect(answers.every((a) => a.choices[0]!.message.content)).toBe(true);
    expect(
      await h.count("SELECT 1 FROM messages WHERE user_id = $1 AND outcome = 'completed'", [
        u.userId,
      ]),
    ).toBe(4);
  });

  it('answers 503 backends_busy when no slot frees within the backend timeout', async () => {
    h = await ChatHarness.start(
      { tokensPerSec: 4, replyTokens: 40 },
      { ENCLAVE_HEALTH_INTERVAL_MS: '600000' },
    );
    await h.dataSource.query(
      'UPDATE backends SET max_concurrent = 1, timeout_ms = 300, updated_at = now()',
    );
    await h.app.get(UpstreamPool).reload();
    const u = await h.user('busy@example.com');
    // A slow stream holds the only slot for ~10 s.
    const holder = new AbortController();
    const first = await post(
      h,
      u.key,
      { model: 'enclave-sim', messages: PROMPT, stream: true },
      holder.signal,
    );
    expect(first.status).toBe(200);
    const res = await post(h, u.key, { model: 'enclave-sim', messages: PROMPT });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('backends_busy');
    holder.abort();
  });
});

describe('a client that leaves', () => {
  let h: ChatHarness;
  beforeAll(async () => {
    h = await ChatHarness.start({ ttftMs: 1_500 }, { ENCLAVE_HEALTH_INTERVAL_MS: '600000' });
  });
  afterAll(async () => {
    await h.stop();
  });

  it.each([true, false])(
    'before the first token (stream: %s) is recorded client_disconnected, not blamed on the backend',
    async (stream) => {
      const u = await h.user(`gone-${stream}@example.com`);
      const leave = new AbortController();
      const pending = post(
        h,
        u.key,
        { model: 'enclave-sim', messages: PROMPT, stream },
        leave.signal,
      );
      await waitFor(
        async () =>
          (await h.count("SELECT 1 FROM messages WHERE user_id = $1 AND outcome = 'in_progress'", [
            u.userId,
          ])) > 0,
        5_000,
      );
      leave.abort();
      await expect(pending).rejects.toThrow();
      const { message, events } = await settled(h, u.userId);
      expect(message.outcome).toBe('client_disconnected');
      expect(events).toEqual([
        { outcome: 'partial', messageOutcome: 'client_disconnected', errorCode: null },
      ]);
      expect(h.app.get(UpstreamPool).status()[0]).toMatchObject({
        state: 'healthy',
        circuitOpen: false,
        outstanding: 0,
      });
    },
  );
});
