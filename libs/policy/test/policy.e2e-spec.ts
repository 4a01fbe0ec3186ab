import type { INestApplication } from '@nestjs/common';
import { notifyConfigChanged } from '@enclave/db';
import { Metrics } from '@enclave/observability';
import { PolicyService, QuotasRepository, UsageBuffer, UsageRepository } from '@enclave/policy';
import { ChatHarness } from '../../../test/support/chat-harness.js';

// Limits enforced by two chat instances sharing one Postgres (no Redis), through the real API.

const BODY = JSON.stringify({
  model: 'enclave-sim',
  messages: [{ role: 'user', content: 'Count to three.' }],
});

async function post(baseURL: string, key: string): Promise<Response> {
  return fetch(`${baseURL}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: BODY,
  });
}

/** Fixed minute windows: start a burst early in a minute so it cannot straddle two. */
async function startOfAMinute(): Promise<void> {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 40_000) await new Promise((r) => setTimeout(r, 60_000 - intoMinute + 100));
}

describe('limits across two chat instances on one database', () => {
  let h: ChatHarness;
  let second: INestApplication;
  let urls: string[];
  beforeAll(async () => {
    h = await ChatHarness.start();
    second = await h.secondInstance();
    urls = [h.baseURL, ChatHarness.urlOf(second)];
  });
  afterAll(async () => {
    await h.stop();
  });

  async function setQuota(q: Parameters<QuotasRepository['upsert']>[1]) {
    await h.dataSource.transaction(async (db) => {
      await h.app.get(QuotasRepository).upsert(db, q);
      await notifyConfigChanged(db, 'policies');
    });
    await Promise.all([h.app, second].map((app) => app.get(PolicyService).reload()));
  }

  it('lets exactly 100 of 300 requests through a 100 per minute key limit, the rest 429', async () => {
    const u = await h.user('burst@example.com');
    const keyId = (
      await h.dataSource.query('SELECT id FROM api_keys WHERE prefix = $1', [u.prefix])
    )[0].id;
    await setQuota({
      scope: 'api_key',
      subjectId: keyId,
      requestsPerMinute: 100,
      tokensPerDay: null,
      tokensPerMonth: null,
    });
    await startOfAMinute();

    const statuses: number[] = [];
    const retryAfter: (string | null)[] = [];
    const codes = new Set<string>();
    for (let batch = 0; batch < 30; batch++) {
      const responses = await Promise.all(
        Array.from({ length: 10 }, (_, i) => post(urls[(batch * 10 + i) % 2]!, u.key)),
      );
      for (const res of responses) {
        statuses.push(res.status);
        if (res.status === 429) {
          retryAfter.push(res.headers.get('retry-after'));
          codes.add(((await res.json()) as { error: { code: string } }).error.code);
        } else await res.arrayBuffer();
      }
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(100);
    expect(statuses.filter((s) => s === 429)).toHaveLength(200);
    expect([...codes]).toEqual(['rate_limited']);
    const counted = await Promise.all(
      [h.app, second].map(async (app) =>
        (await app.get(Metrics).registry.getSingleMetric('enclave_rejections_total')!.get()).values
          .filter((v) => v.labels.kind === 'rate_limit')
          .reduce((n, v) => n + v.value, 0),
      ),
    );
    expect(counted[0]! + counted[1]!).toBe(200);
    for (const r of retryAfter) {
      expect(Number(r)).toBeGreaterThanOrEqual(1);
      expect(Number(r)).toBeLessThanOrEqual(60);
    }
  });

  it('refuses further requests once the daily token quota is used, on both instances', async () => {
    const u = await h.user('tokens@example.com');
    await setQuota({
      scope: 'user',
      subjectId: u.userId,
      requestsPerMinute: null,
      tokensPerDay: 100,
      tokensPerMonth: null,
    });
    let ok = 0;
    let refused: Response | null = null;
    for (let i = 0; i < 50 && !refused; i++) {
      const res = await post(urls[i % 2]!, u.key);
      if (res.status === 200) {
        ok++;
        await res.arrayBuffer();
      } else refused = res;
    }
    expect(refused?.status).toBe(429);
    const body = (await refused!.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('quota_exceeded');
    expect(body.error.message).toMatch(
      /daily token quota of 100 .* resets at \d{4}-\d\d-\d\dT00:00:00.000Z/,
    );
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThan(0);

    const [{ used }] = await h.dataSource.query(
      `SELECT sum(prompt_tokens + completion_tokens)::int AS used FROM messages WHERE user_id = $1`,
      [u.userId],
    );
    // Every request that got through was admitted while the quota still had room.
    expect(used).toBeGreaterThanOrEqual(100);
    expect(used - (await lastRequestTokens(h, u.userId))).toBeLessThan(100);
    expect(ok).toBeGreaterThan(1);
    for (const url of urls) expect((await post(url, u.key)).status).toBe(429);
  });

  it('records usage per user, key, model and day for the console', async () => {
    const u = await h.user('usage@example.com');
    for (let i = 0; i < 3; i++) await (await post(urls[i % 2]!, u.key)).arrayBuffer();
    // Usage is summed in memory and written once a second; write it now.
    await Promise.all([h.app, second].map((app) => app.get(UsageBuffer).flush()));
    const today = new Date().toISOString().slice(0, 10);
    const rows = await h.app
      .get(UsageRepository)
      .query({ from: today, to: today, userId: u.userId });
    const [{ prompt, completion }] = await h.dataSource.query(
      `SELECT sum(prompt_tokens)::int AS prompt, sum(completion_tokens)::int AS completion
         FROM messages WHERE user_id = $1`,
      [u.userId],
    );
    expect(rows).toEqual([
      expect.objectContaining({
        day: today,
        model: 'enclave-sim',
        requests: 3,
        promptTokens: prompt,
        completionTokens: completion,
      }),
    ]);
  });

  it('a limit changed by an admin reaches both instances within 1 s', async () => {
    const u = await h.user('live-limit@example.com');
    const policies = [h.app, second].map((app) => app.get(PolicyService));
    await h.dataSource.transaction(async (db) => {
      await h.app.get(QuotasRepository).upsert(db, {
        scope: 'user',
        subjectId: u.userId,
        requestsPerMinute: 7,
        tokensPerDay: null,
        tokensPerMonth: null,
      });
      await notifyConfigChanged(db, 'policies');
    });
    const principal = {
      userId: u.userId,
      email: '',
      role: 'user' as const,
      via: 'session' as const,
      apiKey: null,
      session: null,
    };
    const deadline = Date.now() + 1_000;
    while (
      Date.now() < deadline &&
      !policies.every((p) => p.limitsOf(principal).user.requestsPerMinute === 7)
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(policies.map((p) => p.limitsOf(principal).user.requestsPerMinute)).toEqual([7, 7]);
  });
});

async function lastRequestTokens(h: ChatHarness, userId: string): Promise<number> {
  const [{ n }] = await h.dataSource.query(
    `SELECT (prompt_tokens + completion_tokens)::int AS n FROM messages
      WHERE user_id = $1 AND outcome = 'completed' ORDER BY created_at DESC LIMIT 1`,
    [userId],
  );
  return n;
}
