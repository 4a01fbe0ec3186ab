import type { Principal } from '@enclave/auth';
import type { Config } from '@enclave/config';
import { Entitlements } from './entitlements.js';

// The in-memory rules the gateway applies, on fakes of their repositories.

const LEGAL = '11111111-1111-4111-8111-111111111111';
const BOARD = '22222222-2222-4222-8222-222222222222';

async function loaded(): Promise<Entitlements> {
  const e = new Entitlements(
    {
      list: async () => [
        { id: LEGAL, name: 'Legal' },
        { id: BOARD, name: 'Board' },
      ],
      allMemberships: async () => [
        { userId: 'ann', groupId: LEGAL },
        { userId: 'bob', groupId: BOARD },
      ],
    } as never,
    {
      list: async () => [
        { model: 'big', groupIds: [LEGAL] },
        { model: 'fast', groupIds: [BOARD] },
      ],
    } as never,
    {
      current: async () => [
        { model: 'big', inputPerMillion: 2, outputPerMillion: 6, currency: 'EUR' },
      ],
    } as never,
    {
      list: async () => [
        { id: 'b1', scope: 'group', subjectId: LEGAL, unit: 'money', period: 'month', limit: 5 },
        { id: 'b2', scope: 'user', subjectId: 'ann', unit: 'tokens', period: 'day', limit: 9 },
      ],
    } as never,
    { on: () => undefined } as never,
    { billing: { currency: 'EUR', budgetWarnShare: 0.8 } } as Config,
  );
  await e.reload();
  return e;
}

const principal = (userId: string): Principal => ({
  userId,
  email: `${userId}@example.com`,
  role: 'user',
  via: 'api_key',
  apiKey: { id: `key-${userId}`, prefix: 'ek_00000000', models: null },
  session: null,
});

describe('Entitlements', () => {
  it('opens a model to its groups only; an unrestricted model to everyone', async () => {
    const e = await loaded();
    expect(e.allows('ann', 'big')).toBe(true);
    expect(e.allows('bob', 'big')).toBe(false);
    expect(e.allows('bob', 'small')).toBe(true);
  });

  it('applies the rule of the model an alias stands for, unless the alias has its own', async () => {
    const e = await loaded();
    expect(e.allows('bob', 'default', 'big')).toBe(false);
    // 'fast' is Board's own rule, even where it stands for Legal's model.
    expect(e.allows('bob', 'fast', 'big')).toBe(true);
    expect(e.allows('ann', 'fast', 'big')).toBe(false);
  });

  it('refuses with 403 model_not_allowed naming the groups that may', async () => {
    const e = await loaded();
    expect(() => e.assertAllowed(principal('bob'), 'big')).toThrow(
      expect.objectContaining({
        code: 'model_not_allowed',
        message: expect.stringContaining('Legal'),
      }),
    );
  });

  it('prices a request at the price in force (alias by its model), 0 without one', async () => {
    const e = await loaded();
    expect(e.costOf('big', 'big', 1_000_000, 500_000)).toEqual({ cost: 5, currency: 'EUR' });
    expect(e.costOf('default', 'big', 1000, 0)).toEqual({ cost: 0.002, currency: 'EUR' });
    expect(e.costOf('small', 'small', 1000, 1000)).toEqual({ cost: 0, currency: null });
  });

  it("counts a request against its user's and its groups' budgets", async () => {
    const e = await loaded();
    expect(e.budgetsOf(principal('ann')).map((b) => [b.id, b.label])).toEqual([
      ['b2', 'your user'],
      ['b1', 'the group Legal'],
    ]);
    expect(e.budgetsOf(principal('bob'))).toEqual([]);
  });
});
