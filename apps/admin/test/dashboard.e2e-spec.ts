import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { UsageBuffer } from '@enclave/policy';
import { AdminAppModule } from '../src/admin.module.js';
import { startApp } from '../../../test/support/app.js';
import { ChatHarness } from '../../../test/support/chat-harness.js';

// The console's dashboard: per-minute traffic from the usage history (usage_events; zero-filled,
// oldest first), totals, backends with live health, and replication (none here).

interface Minute {
  minute: string;
  requests: number;
  errors: number;
  cacheHits: number;
  promptTokens: number;
  completionTokens: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  ttftP50Ms: number | null;
  ttftP95Ms: number | null;
}

describe('admin: dashboard', () => {
  let h: ChatHarness;
  let admin: INestApplication;
  let adminKey: string;
  let auditorKey: string;
  let userKey: string;
  /** The minute (ISO) two minutes ago, where the test's messages are placed. */
  let twoAgo: string;

  const get = (key: string, query: Record<string, string> = {}) =>
    request(admin.getHttpServer())
      .get('/api/admin/dashboard')
      .query(query)
      .set('authorization', `Bearer ${key}`);

  beforeAll(async () => {
    h = await ChatHarness.start();
    admin = await startApp(AdminAppModule.forRoot(h.config), h.config);
    adminKey = (await h.user('root@example.com', { role: 'admin' })).key;
    auditorKey = (await h.user('auditor@example.com', { role: 'auditor' })).key;
    const staff = await h.user('staff@example.com');
    userKey = staff.key;
    // Ten answers two minutes ago: latency 100..1000 ms, ttft 10..100, one upstream error,
    // two cache hits, 5 prompt and 7 completion tokens each.
    const [{ at }] = await h.dataSource.query(
      `SELECT to_char((date_trunc('minute', now()) - interval '2 minutes') AT TIME ZONE 'UTC',
                      'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at`,
    );
    twoAgo = at;
    await h.dataSource.query(
      `INSERT INTO usage_events (user_id, model, outcome, prompt_tokens, completion_tokens,
                                 latency_ms, ttft_ms, cache_hit, at)
       SELECT $1, 'enclave-sim', CASE WHEN i = 10 THEN 'upstream_error' ELSE 'completed' END,
              5, 7, i * 100, i * 10, i <= 2, $2::timestamptz + i * interval '1 second'
         FROM generate_series(1, 10) AS i`,
      [staff.userId, twoAgo],
    );
    // And one real completion now, through the chat API.
    await staff.client.chat.completions.create({
      model: 'enclave-sim',
      messages: [{ role: 'user', content: 'Hello dashboard' }],
    });
    await h.app.get(UsageBuffer).flush();
  });
  afterAll(async () => {
    await admin.close();
    await h.stop();
  });

  it('counts requests, errors, cache hits, tokens and latency percentiles per minute', async () => {
    const res = await get(auditorKey, { minutes: '10' }).expect(200);
    const series = res.body.series as Minute[];
    expect(res.body.minutes).toBe(10);
    expect(series).toHaveLength(10);
    // Oldest first, one minute apart, the last one is the current minute.
    const times = series.map((s) => Date.parse(s.minute));
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBe(60_000);
    expect(Date.now() - times.at(-1)!).toBeLessThan(120_000);

    const placed = series.find((s) => s.minute === twoAgo)!;
    expect(placed).toEqual({
      minute: twoAgo,
      requests: 10,
      errors: 1,
      cacheHits: 2,
      promptTokens: 50,
      completionTokens: 70,
      latencyP50Ms: 550,
      latencyP95Ms: 955,
      ttftP50Ms: 55,
      // 95.5 by interpolation, which floating point may put a hair either side of.
      ttftP95Ms: expect.any(Number),
    });
    expect(Math.abs(placed.ttftP95Ms! - 95.5)).toBeLessThanOrEqual(0.5);
    const empty = series.filter((s) => s.requests === 0);
    expect(empty.length).toBeGreaterThanOrEqual(8);
    expect(empty[0]).toMatchObject({
      errors: 0,
      cacheHits: 0,
      promptTokens: 0,
      latencyP50Ms: null,
    });

    const totals = res.body.totals as Omit<Minute, 'minute'>;
    expect(totals.requests).toBe(11);
    expect(totals.errors).toBe(1);
    expect(totals.promptTokens).toBeGreaterThan(50);
    expect(totals.latencyP95Ms).toBeGreaterThan(0);
  });

  it('lists the backends with their live health, and no replication without standbys', async () => {
    const res = await get(adminKey).expect(200);
    expect(res.body.minutes).toBe(60);
    expect(res.body.series).toHaveLength(60);
    expect(res.body.replication).toEqual([]);
    const backends = res.body.backends as { name: string; baseUrl: string; healthy: boolean }[];
    expect(backends.length).toBeGreaterThan(0);
    expect(backends[0]).toMatchObject({
      baseUrl: expect.stringContaining('127.0.0.1'),
      enabled: true,
      healthy: true,
      circuitOpen: false,
      lastError: null,
    });
  });

  it('is for admins and auditors, with a bounded window', async () => {
    expect((await get(userKey).expect(403)).body.error.code).toBe('forbidden');
    for (const minutes of ['0', '1441', 'ten']) {
      const res = await get(adminKey, { minutes }).expect(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_query', param: 'minutes' });
    }
  });
});
