import { randomUUID } from 'node:crypto';
import { UsageBuffer } from '@enclave/policy';
import { ChatHarness } from '../../../test/support/chat-harness.js';

/**
 * A completion left in progress by a process that is gone is closed as interrupted by the next
 * chat process's first pass, with a `chat.completion` audit event naming who asked: the user's
 * email and, for an API key, its prefix (read from libs/auth, which owns users and keys), and a
 * row in the usage history, so reports count the request.
 */
describe('the reconciler', () => {
  let h: ChatHarness;
  beforeAll(async () => {
    h = await ChatHarness.start();
  });
  afterAll(() => h.stop());

  async function abandoned(userId: string, apiKeyId: string | null): Promise<string> {
    const id = randomUUID();
    // Served by a process whose instance row is gone: it died.
    await h.dataSource.query(
      `INSERT INTO messages (id, user_id, api_key_id, role, model, outcome, request_id, instance_id)
       VALUES ($1, $2, $3, 'assistant', 'enclave-sim', 'in_progress', $4, $5)`,
      [id, userId, apiKeyId, `abandoned-${id}`, randomUUID()],
    );
    return id;
  }

  it('closes what a dead process left open, naming the user and key in the audit event', async () => {
    const u = await h.user('reconciled@example.com');
    const [{ id: keyId }] = await h.dataSource.query('SELECT id FROM api_keys WHERE prefix = $1', [
      u.prefix,
    ]);
    const byKey = await abandoned(u.userId, keyId);
    const bySession = await abandoned(u.userId, null);

    // A new process's first pass runs as it starts.
    const second = await h.secondInstance();

    const rows: { id: string; outcome: string; actorType: string; actorLabel: string }[] =
      await h.dataSource.query(
        `SELECT m.id, m.outcome, e.actor_type AS "actorType", e.actor_label AS "actorLabel"
           FROM messages m JOIN audit_events e
             ON e.target_id = m.id::text AND e.action = 'chat.completion'
          WHERE m.id = ANY($1::uuid[])`,
        [[byKey, bySession]],
      );
    expect(new Map(rows.map((r) => [r.id, r]))).toEqual(
      new Map([
        [
          byKey,
          {
            id: byKey,
            outcome: 'interrupted',
            actorType: 'api_key',
            actorLabel: `reconciled@example.com (key ${u.prefix})`,
          },
        ],
        [
          bySession,
          {
            id: bySession,
            outcome: 'interrupted',
            actorType: 'user',
            actorLabel: 'reconciled@example.com',
          },
        ],
      ]),
    );

    // The usage history counts both requests, with no tokens and nothing billed.
    await second.get(UsageBuffer).flush();
    const usage = await h.dataSource.query(
      `SELECT api_key_id AS "apiKeyId", outcome, prompt_tokens + completion_tokens AS tokens,
              cost::float8 AS cost
         FROM usage_events WHERE user_id = $1 ORDER BY api_key_id NULLS FIRST`,
      [u.userId],
    );
    expect(usage).toEqual([
      { apiKeyId: null, outcome: 'interrupted', tokens: 0, cost: 0 },
      { apiKeyId: keyId, outcome: 'interrupted', tokens: 0, cost: 0 },
    ]);
  });
});
