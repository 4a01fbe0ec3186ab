import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { AdminAppModule } from '../apps/admin/src/admin.module.js';
import { HTTP_APPS, startApp } from './support/app.js';
import { ChatHarness } from './support/chat-harness.js';
import { testConfig } from './support/config.js';
import { openaiClient } from './support/openai.js';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';
import { type Exposition, parsePrometheusText } from './support/prometheus.js';

const TOKEN = 'metrics-token-0123456789abcdef';

async function scrape(app: INestApplication, token?: string): Promise<Exposition> {
  const req = request(app.getHttpServer()).get('/metrics');
  if (token) req.set('authorization', `Bearer ${token}`);
  const res = await req.expect(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(res.text);
}

describe('/metrics on every app', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  describe.each(HTTP_APPS)('%s', (name, moduleFor) => {
    let app: INestApplication;
    beforeAll(async () => {
      const config = testConfig({ DATABASE_URL: db.url });
      app = await startApp(moduleFor(config), config);
    });
    afterAll(async () => {
      await app.close();
    });

    it('answers a loopback scrape with Prometheus text: process, event loop, DB pool, requests', async () => {
      await request(app.getHttpServer()).get('/healthz').expect(200);
      await request(app.getHttpServer()).get('/no/such/route').expect(404);
      const m = await scrape(app);
      expect(m.value('process_resident_memory_bytes', { app: name })).toBeGreaterThan(0);
      expect(m.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
      expect(m.value('enclave_db_pool_max_connections', { pool: 'primary' })).toBe(10);
      expect(m.value('enclave_db_pool_connections', { pool: 'primary' })).toBeGreaterThan(0);
      expect(m.types.get('enclave_db_pool_waiting_clients')).toBe('gauge');
      const healthz = { app: name, method: 'GET', route: '/healthz', status: '200' };
      expect(m.value('enclave_http_request_duration_seconds_count', healthz)).toBe(1);
      // Unknown URLs count under one label value (the web UI's catch-all pattern, or
      // 'unmatched'), never their own URL, so a scanner cannot grow the series.
      const notFound = m.samples.filter(
        (s) =>
          s.name === 'enclave_http_request_duration_seconds_count' && s.labels.status === '404',
      );
      expect(notFound).toHaveLength(1);
      expect(['/*', 'unmatched']).toContain(notFound[0]!.labels.route);
      expect(m.samples.some((s) => s.labels.route === '/no/such/route')).toBe(false);
    });

    it('refuses a scrape relayed from a non-loopback address while no token is set', async () => {
      const res = await request(app.getHttpServer())
        .get('/metrics')
        .set('x-forwarded-for', '203.0.113.7')
        .expect(403);
      expect(res.body.error.code).toBe('metrics_loopback_only');
    });
  });
});

describe('/metrics with ENCLAVE_METRICS_TOKEN', () => {
  let db: TestDatabase;
  let app: INestApplication;
  beforeAll(async () => {
    db = await createTestDatabase();
    const config = testConfig({ DATABASE_URL: db.url, ENCLAVE_METRICS_TOKEN: TOKEN });
    app = await startApp(AdminAppModule.forRoot(config), config);
  });
  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  it('is 401 without the token or with a wrong one, even from loopback', async () => {
    const none = await request(app.getHttpServer()).get('/metrics').expect(401);
    expect(none.body.error.code).toBe('metrics_token_required');
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    await request(app.getHttpServer())
      .get('/metrics')
      .set('authorization', `Bearer ${TOKEN}x`)
      .expect(401);
    // An API-key-shaped credential is not the scrape token either.
    await request(app.getHttpServer())
      .get('/metrics')
      .set('authorization', 'Bearer ek_00000000_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')
      .expect(401);
  });

  it('answers with the token, from anywhere', async () => {
    const res = await request(app.getHttpServer())
      .get('/metrics')
      .set('authorization', `Bearer ${TOKEN}`)
      .set('x-forwarded-for', '203.0.113.7')
      .expect(200);
    expect(() => parsePrometheusText(res.text)).not.toThrow();
  });
});

describe('chat metrics move with traffic through the OpenAI API', () => {
  let h: ChatHarness;
  beforeAll(async () => {
    h = await ChatHarness.start();
  });
  afterAll(async () => {
    await h.stop();
  });

  /** Scrapes until `done` holds (a completion's bookkeeping finishes after its last byte). */
  async function scrapeUntil(done: (m: Exposition) => boolean): Promise<Exposition> {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const m = await scrape(h.app);
      if (done(m) || Date.now() > deadline) return m;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('counts requests by route and status, upstream latency and TTFT, and tokens by model', async () => {
    const { client } = await h.user('metrics@example.com');
    const route = { route: '/v1/chat/completions', method: 'POST' };
    const model = { model: 'enclave-sim' };
    const before = await scrape(h.app);

    const plain = await client.chat.completions.create({
      model: 'enclave-sim',
      messages: [{ role: 'user', content: 'Count the requests please' }],
    });
    const stream = await client.chat.completions.create({
      model: 'enclave-sim',
      messages: [{ role: 'user', content: 'And stream this one' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let streamUsage: { prompt_tokens: number; completion_tokens: number } | null = null;
    for await (const chunk of stream) streamUsage = chunk.usage ?? streamUsage;
    const badKey = openaiClient(
      `${h.baseURL}/v1`,
      'ek_00000000_wrongwrongwrongwrongwrongwrongwrongwrong1',
    );
    await expect(
      badKey.chat.completions.create({
        model: 'enclave-sim',
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).rejects.toThrow();

    const delta = (m: Exposition, name: string, labels: Record<string, string>) =>
      m.sum(name, labels) - before.sum(name, labels);
    const m = await scrapeUntil(
      (s) => delta(s, 'enclave_upstream_duration_seconds_count', model) >= 2,
    );

    expect(
      delta(m, 'enclave_http_request_duration_seconds_count', { ...route, status: '200' }),
    ).toBe(2);
    expect(
      delta(m, 'enclave_http_request_duration_seconds_count', { ...route, status: '401' }),
    ).toBe(1);
    expect(
      delta(m, 'enclave_upstream_duration_seconds_count', { ...model, outcome: 'completed' }),
    ).toBe(2);
    expect(delta(m, 'enclave_upstream_ttft_seconds_count', model)).toBe(2);
    expect(delta(m, 'enclave_tokens_total', { ...model, type: 'prompt' })).toBe(
      plain.usage!.prompt_tokens + streamUsage!.prompt_tokens,
    );
    expect(delta(m, 'enclave_tokens_total', { ...model, type: 'completion' })).toBe(
      plain.usage!.completion_tokens + streamUsage!.completion_tokens,
    );
    // Every upstream series names the backend that answered.
    const upstream = m.samples.filter((s) => s.name === 'enclave_upstream_duration_seconds_count');
    expect(upstream.every((s) => s.labels.backend && s.labels.backend !== 'none')).toBe(true);
  });
});
