import type { INestApplication } from '@nestjs/common';
import { notifyConfigChanged } from '@enclave/db';
import { BackendsRepository, SecretBox, UpstreamPool } from '@enclave/llm';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { ChatHarness } from '../../../test/support/chat-harness.js';

// The upstream pool in a running chat app: real simulators as backends, real Postgres holding
// them, the official SDK as the client.

const PROMPT: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Say something.' }];

async function addBackend(
  h: ChatHarness,
  name: string,
  baseUrl: string,
  opts: { weight?: number; timeoutMs?: number; models?: string[] | null } = {},
) {
  await h.dataSource.transaction(async (db) => {
    await h.app.get(BackendsRepository).insert(db, {
      name,
      baseUrl,
      apiKeySealed: null,
      models: opts.models ?? null,
      weight: opts.weight ?? 1,
      maxConcurrent: 256,
      timeoutMs: opts.timeoutMs ?? 60_000,
      enabled: true,
    });
    await notifyConfigChanged(db, 'backends');
  });
  await h.app.get(UpstreamPool).reload();
}

/** Which backend answered how many of the user's completions, once `expected` have finished. */
async function answeredBy(
  h: ChatHarness,
  userId: string,
  expected: number,
): Promise<Record<string, number>> {
  await waitFor(
    async () =>
      (await h.count("SELECT 1 FROM messages WHERE user_id = $1 AND outcome <> 'in_progress'", [
        userId,
      ])) >= expected,
    5_000,
  );
  const rows: { upstream: string; n: number }[] = await h.dataSource.query(
    `SELECT upstream, count(*)::int AS n FROM messages
      WHERE user_id = $1 AND outcome = 'completed' GROUP BY upstream`,
    [userId],
  );
  return Object.fromEntries(rows.map((r) => [r.upstream, r.n]));
}

async function waitFor(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

describe('upstream pool', () => {
  let h: ChatHarness;
  let seeded: string;
  afterEach(async () => {
    await h.stop();
  });

  async function start(env: Record<string, string> = {}) {
    // Long health interval: these tests exercise the passive path (failover on a failed call).
    h = await ChatHarness.start({}, { ENCLAVE_HEALTH_INTERVAL_MS: '600000', ...env });
    seeded = h.app.get(UpstreamPool).status()[0]!.name;
  }

  it('seeds the first backend from config, its API key sealed at rest', async () => {
    await start({ ENCLAVE_UPSTREAM_API_KEY: 'sk-upstream-secret' });
    const [row] = await h.app.get(BackendsRepository).list();
    expect(row!.baseUrl).toBe(h.config.upstream.url);
    expect(row!.apiKeySealed!.toString('latin1')).not.toContain('sk-upstream-secret');
    expect(SecretBox.fromConfig(h.config).open(row!.apiKeySealed!)).toBe('sk-upstream-secret');
  });

  it('fails over to B, invisibly, when the preferred backend A refuses connections', async () => {
    await start();
    const a = await h.extraSim();
    await addBackend(h, 'a', a.url, { weight: 10 });
    await a.sim.close(); // A is known healthy, then goes away.
    const u = await h.user('refused@example.com');
    const circuitOfA = () =>
      h.app
        .get(UpstreamPool)
        .status()
        .find((b) => b.name === 'a')!.circuitOpen;
    for (let i = 0; i < 200; i++) {
      const res = await u.client.chat.completions.create({
        model: 'enclave-sim',
        messages: PROMPT,
      });
      expect(res.choices[0]!.message.content).toBeTruthy();
      // Three failed attempts in a row open A's circuit: later requests skip it.
      if (i === 2) expect(circuitOfA()).toBe(true);
    }
    expect(await answeredBy(h, u.userId, 200)).toEqual({ [seeded]: 200 });
  });

  it('loses no request when A answers 500 to 30% of them', async () => {
    await start();
    const a = await h.extraSim({ errorRate: 0.3 });
    await addBackend(h, 'a', a.url, { weight: 10 });
    const u = await h.user('flaky@example.com');
    for (let i = 0; i < 100; i++) {
      await u.client.chat.completions.create({
        model: 'enclave-sim',
        messages: PROMPT,
        stream: i % 2 === 0,
      });
    }
    const counts = await answeredBy(h, u.userId, 100);
    const answeredByA = counts.a ?? 0;
    expect(answeredByA + (counts[seeded] ?? 0)).toBe(100);
    // Every call A failed went on to the seeded backend and was answered there. Whether A itself
    // answered any is left to chance: when its first three calls fail (0.3^3, about 1 run in 37)
    // its circuit opens for longer than this test runs, and that is the breaker doing its job.
    const failedByA = a.sim.served['/v1/chat/completions']! - answeredByA;
    expect(failedByA).toBeGreaterThan(0);
    expect(counts[seeded]).toBeGreaterThanOrEqual(failedByA);
  });

  it('completes on B, streamed and not, when A stalls before the first token', async () => {
    await start();
    const a = await h.extraSim({ stallRate: 1, stallMs: 0 });
    await addBackend(h, 'a', a.url, { weight: 10, timeoutMs: 300 });
    const u = await h.user('stalled@example.com');
    for (const stream of [false, true]) {
      const t0 = Date.now();
      const res = await u.client.chat.completions.create({
        model: 'enclave-sim',
        messages: PROMPT,
        stream,
      });
      if (stream) for await (const _ of res as AsyncIterable<unknown>) void _;
      // Bounded by A's first-token timeout plus a margin, not by the 60 s default.
      expect(Date.now() - t0).toBeLessThan(300 + 5_000);
    }
    expect(await answeredBy(h, u.userId, 2)).toEqual({ [seeded]: 2 });
  });

  it('resolves a model alias such as default', async () => {
    await start();
    await h.dataSource.transaction(async (db) => {
      await h.app.get(BackendsRepository).setAlias(db, 'default', 'sim-large');
      await notifyConfigChanged(db, 'backends');
    });
    await h.app.get(UpstreamPool).reload();
    const u = await h.user('alias@example.com');
    const models = (await u.client.models.list()).data.map((m) => m.id);
    expect(models).toContain('default');
    const res = await u.client.chat.completions.create({ model: 'default', messages: PROMPT });
    expect(res.model).toBe('sim-large');
  });

  it('answers 503 when no enabled backend can serve', async () => {
    await start();
    await h.dataSource.query('UPDATE backends SET enabled = false, updated_at = now()');
    await h.app.get(UpstreamPool).reload();
    const u = await h.user('none@example.com');
    const res = await fetch(`${h.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${u.key}` },
      body: JSON.stringify({ model: 'enclave-sim', messages: PROMPT }),
    });
    // The model still exists (its backend is only disabled): 503, not 404.
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'no_backend_available',
    );
  });
});

describe('live configuration across two chat instances on one database', () => {
  let h: ChatHarness;
  let second: INestApplication;
  beforeAll(async () => {
    h = await ChatHarness.start();
    second = await h.secondInstance();
  });
  afterAll(async () => {
    await h.stop();
  });

  it('a backend disabled in the database leaves both instances within 1 s', async () => {
    const b = await h.extraSim();
    await addBackend(h, 'b', b.url);
    const pools = [h.app.get(UpstreamPool), second.get(UpstreamPool)];
    expect(
      await waitFor(() => pools.every((p) => p.status().some((s) => s.name === 'b')), 1_000),
    ).toBe(true);

    await h.dataSource.transaction(async (db) => {
      await db.query("UPDATE backends SET enabled = false, updated_at = now() WHERE name = 'b'");
      await notifyConfigChanged(db, 'backends');
    });
    const disabledEverywhere = () =>
      pools.every((p) => p.status().find((s) => s.name === 'b')?.enabled === false);
    expect(await waitFor(disabledEverywhere, 1_000)).toBe(true);
    expect(pools.every((p) => p.pick('enclave-sim')?.name !== 'b')).toBe(true);
  });

  it('a key revoked through one instance is refused by the other within a second', async () => {
    const u = await h.user('revoke-live@example.com');
    const viaSecond = `${ChatHarness.urlOf(second)}/v1/models`;
    const auth = { authorization: `Bearer ${u.key}` };
    expect((await fetch(viaSecond, { headers: auth })).status).toBe(200);
    await h.dataSource.query('UPDATE api_keys SET revoked_at = now() WHERE prefix = $1', [
      u.prefix,
    ]);
    // The second instance serves the key from its cache until the change's notification lands.
    let res: Response | null = null;
    const refused = async () => (res = await fetch(viaSecond, { headers: auth })).status === 401;
    expect(await waitFor(refused, 1_000)).toBe(true);
    expect(((await res!.json()) as { error: { code: string } }).error.code).toBe('revoked_api_key');
  });
});
