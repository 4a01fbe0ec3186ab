import { notifyConfigChanged } from '@enclave/db';
import { PolicyService, QuotasRepository } from '@enclave/policy';
import { ChatHarness } from '../../../test/support/chat-harness.js';
import { statementsDuring } from '../../../test/support/query-counter.js';
import { MessageReconciler } from '../src/completions/message-reconciler.js';

const PROMPT = [{ role: 'user' as const, content: 'count my round trips' }];

/**
 * The database work of one completion with everything Enclave does on it (a cached API key, a
 * per-user rate limit and token quotas, the pending message, the finished message with its
 * counters and audit event): the round trips it costs, counted at the driver.
 */
describe('database round trips of a completion', () => {
  let h: ChatHarness;
  let u: Awaited<ReturnType<ChatHarness['user']>>;
  beforeAll(async () => {
    h = await ChatHarness.start();
    u = await h.user('round-trips@example.com');
    await h.dataSource.transaction(async (db) => {
      await h.app.get(QuotasRepository).upsert(db, {
        scope: 'user',
        subjectId: u.userId,
        requestsPerMinute: 10_000,
        tokensPerDay: 10_000_000,
        tokensPerMonth: 100_000_000,
      });
      await notifyConfigChanged(db, 'policies');
    });
    await h.app.get(PolicyService).reload();
    // The first request reads the key into the cache.
    await u.client.chat.completions.create({ model: 'enclave-sim', messages: PROMPT });
    // The reconciler's beats and passes run on their own clock; they are not the requests'.
    await h.app.get(MessageReconciler).onApplicationShutdown();
  });
  afterAll(() => h.stop());

  async function perRequest(stream: boolean): Promise<number> {
    const n = 10;
    const statements = await statementsDuring(async () => {
      for (let i = 0; i < n; i++) {
        if (stream) {
          const s = await u.client.chat.completions.create({
            model: 'enclave-sim',
            messages: PROMPT,
            stream: true,
          });
          for await (const _chunk of s) {
            // drain
          }
        } else {
          await u.client.chat.completions.create({ model: 'enclave-sim', messages: PROMPT });
        }
      }
    });
    // Background work on its own clock (usage and last-used flushes, the 30 s reload of live
    // configuration, groups and entitlements included) is not the requests'.
    const background =
      /usage_daily|usage_events|last_used_at|last_seen_at|FROM quotas|backends|settings|aliases|group_members|FROM groups|model_access|model_prices|FROM budgets/;
    const own = statements.filter((s) => !background.test(s));
    console.log(`round trips per ${stream ? 'streamed' : 'plain'} completion`, own.length / n);
    return own.length / n;
  }

  it('a plain completion costs three: admission, pending message, closing write', async () => {
    expect(await perRequest(false)).toBeLessThanOrEqual(3);
  });

  it('so does a streamed one', async () => {
    expect(await perRequest(true)).toBeLessThanOrEqual(3);
  });

  it('still stores the message, the counters and the audit event of each', async () => {
    const rows = await h.dataSource.query(
      `SELECT count(*)::int AS n FROM messages m
         JOIN audit_events e ON e.action = 'chat.completion' AND e.target_id = m.id::text
        WHERE m.user_id = $1 AND m.outcome = 'completed'`,
      [u.userId],
    );
    expect(rows[0].n).toBe(21);
    const [{ value }] = await h.dataSource.query(
      `SELECT value FROM policy_counters WHERE counter LIKE $1`,
      [`u:${u.userId}:tpd:%`],
    );
    const [{ tokens }] = await h.dataSource.query(
      `SELECT sum(prompt_tokens + completion_tokens)::int AS tokens FROM messages WHERE user_id = $1`,
      [u.userId],
    );
    expect(Number(value)).toBe(tokens);
  });
});
