import type { INestApplication } from '@nestjs/common';
import { ApiKeyService, UsersService } from '@enclave/auth';
import pg from 'pg';
import { ChatHarness } from '../../../test/support/chat-harness.js';

/** Polls `check` every 20 ms for up to `ms`; true as soon as it holds. */
async function within(ms: number, check: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

/** Counts the statements every pg client of this process sends while `work` runs. */
async function queriesDuring(work: () => Promise<void>): Promise<number> {
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const original = proto.query;
  let n = 0;
  proto.query = function (this: unknown, ...args: unknown[]) {
    n++;
    return original.apply(this, args);
  };
  try {
    await work();
  } finally {
    proto.query = original;
  }
  return n;
}

describe('credentials cached in memory across two chat instances', () => {
  let h: ChatHarness;
  let second: INestApplication;
  beforeAll(async () => {
    h = await ChatHarness.start();
    second = await h.secondInstance();
  });
  afterAll(() => h.stop());

  const status = async (app: INestApplication, key: string) =>
    (
      await fetch(`${ChatHarness.urlOf(app)}/v1/models`, {
        headers: { authorization: `Bearer ${key}` },
      })
    ).status;

  it('serves a known key without a database round trip per request', async () => {
    const u = await h.user('cached@example.com');
    expect(await status(second, u.key)).toBe(200);
    const queries = await queriesDuring(async () => {
      for (let i = 0; i < 40; i++) expect(await status(second, u.key)).toBe(200);
    });
    // Background work (the usage flush, batched last-used times) may run meanwhile; 40
    // requests reading the key each time would be at least 40.
    expect(queries).toBeLessThan(10);
  });

  it('refuses a key revoked through the other instance within a second', async () => {
    const u = await h.user('revoked-live@example.com');
    expect(await status(h.app, u.key)).toBe(200);
    expect(await status(second, u.key)).toBe(200);
    await h.app
      .get(ApiKeyService)
      .revoke(u.prefix, { type: 'system', label: 'test' }, null, { ownerUserId: u.userId });
    expect(await within(1_000, async () => (await status(second, u.key)) === 401)).toBe(true);
    expect(await status(h.app, u.key)).toBe(401);
  });

  it('refuses the keys of a user disabled through the other instance within a second', async () => {
    const u = await h.user('disabled-live@example.com');
    expect(await status(second, u.key)).toBe(200);
    await h.app
      .get(UsersService)
      .update(u.userId, { disabled: true }, { type: 'system', label: 'test' }, null);
    expect(await within(1_000, async () => (await status(second, u.key)) === 401)).toBe(true);
  });

  it('writes last-used times in batches, not per request', async () => {
    const u = await h.user('touched@example.com');
    for (let i = 0; i < 5; i++) expect(await status(second, u.key)).toBe(200);
    const lastUsed = async () =>
      (
        await h.dataSource.query('SELECT last_used_at FROM api_keys WHERE prefix = $1', [u.prefix])
      )[0].last_used_at as Date | null;
    expect(await within(10_000, async () => (await lastUsed()) !== null)).toBe(true);
  });
});
