import { notifyConfigChanged } from '@enclave/db';
import { UpstreamPool } from '@enclave/llm';
import { UsageBuffer } from '@enclave/policy';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { ChatHarness } from '../../../test/support/chat-harness.js';

// The response cache through the real API: hits are marked, audited and accounted, never cross
// the user scope, and a changed backend invalidates what it served.

const DETERMINISTIC: ChatCompletionCreateParams = {
  model: 'enclave-sim',
  messages: [{ role: 'user', content: 'Cache me if you can.' }],
  temperature: 0,
};

async function ask(h: ChatHarness, key: string, body: ChatCompletionCreateParams = DETERMINISTIC) {
  const stored = () => lastStored(h);
  const before = await stored();
  const res = await fetch(`${h.baseURL}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const cache = res.headers.get('x-enclave-cache');
  // A miss is stored off the request's path; the next ask expects it there (bounded wait).
  for (let i = 0; cache === 'miss' && i < 100 && (await stored()) === before; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return { status: res.status, cache, text };
}

/** When the newest answer was stored (an update of a key sets it too). */
async function lastStored(h: ChatHarness): Promise<string | null> {
  const [row] = await h.dataSource.query('SELECT max(created_at)::text AS at FROM response_cache');
  return row.at;
}

describe('response cache', () => {
  let h: ChatHarness;
  /** Chat requests that reached the simulator. */
  const calls = { n: 0 };
  beforeAll(async () => {
    h = await ChatHarness.start();
    h.sim.server.prependListener('request', (req) => {
      if (req.url?.endsWith('/chat/completions')) calls.n++;
    });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('answers an identical deterministic request from the same user from the cache', async () => {
    const u = await h.user('cache-a@example.com');
    const before = calls.n;
    const first = await ask(h, u.key);
    const second = await ask(h, u.key);
    expect(first.cache).toBe('miss');
    expect(second.cache).toBe('hit');
    expect(JSON.parse(second.text).choices).toEqual(JSON.parse(first.text).choices);
    expect(calls.n - before).toBe(1);

    // Still audited and accounted like any completion.
    const events = await h.dataSource.query(
      `SELECT payload->>'cache' AS cache FROM audit_events
        WHERE action = 'chat.completion' AND actor_id = $1 ORDER BY id`,
      [u.userId],
    );
    expect(events.map((e: { cache: string }) => e.cache)).toEqual(['miss', 'hit']);
    await h.app.get(UsageBuffer).flush();
    const [{ requests }] = await h.dataSource.query(
      'SELECT sum(requests)::int AS requests FROM usage_daily WHERE user_id = $1',
      [u.userId],
    );
    expect(requests).toBe(2);
  });

  it('never crosses the user scope', async () => {
    const a = await h.user('scope-a@example.com');
    const b = await h.user('scope-b@example.com');
    const body = {
      ...DETERMINISTIC,
      messages: [{ role: 'user' as const, content: 'Scoped question.' }],
    };
    expect((await ask(h, a.key, body)).cache).toBe('miss');
    expect((await ask(h, b.key, body)).cache).toBe('miss');
    expect((await ask(h, b.key, body)).cache).toBe('hit');
  });

  it('never caches a non-deterministic request', async () => {
    const u = await h.user('random@example.com');
    const body = { ...DETERMINISTIC, temperature: 0.7 };
    const before = calls.n;
    const r1 = await ask(h, u.key, body);
    const r2 = await ask(h, u.key, body);
    expect([r1.cache, r2.cache]).toEqual([null, null]);
    expect(calls.n - before).toBe(2);
  });

  it('replays a hit as a stream, and a seed makes a request cacheable too', async () => {
    const u = await h.user('stream-cache@example.com');
    const body = { ...DETERMINISTIC, temperature: 1, seed: 42, stream: true };
    const first = await ask(h, u.key, body);
    const second = await ask(h, u.key, body);
    expect([first.cache, second.cache]).toEqual(['miss', 'hit']);
    const content = (sse: string) =>
      sse
        .split('\n\n')
        .filter((e) => e.startsWith('data: {'))
        .map((e) => JSON.parse(e.slice(6)).choices[0]?.delta?.content ?? '')
        .join('');
    expect(content(second.text)).toBe(content(first.text));
    expect(content(second.text).length).toBeGreaterThan(0);
    expect(second.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it('stops serving what a backend answered once that backend changes', async () => {
    const u = await h.user('invalidate@example.com');
    const body = {
      ...DETERMINISTIC,
      messages: [{ role: 'user' as const, content: 'Invalidate.' }],
    };
    await ask(h, u.key, body);
    expect((await ask(h, u.key, body)).cache).toBe('hit');
    await h.dataSource.transaction(async (db) => {
      await db.query('UPDATE backends SET weight = weight + 1, updated_at = now()');
      await notifyConfigChanged(db, 'backends');
    });
    await h.app.get(UpstreamPool).reload();
    expect((await ask(h, u.key, body)).cache).toBe('miss');
    expect((await ask(h, u.key, body)).cache).toBe('hit');
  });
});
