import { duration, rateLimitHeaders, tighter } from './rate-limit-headers.js';

describe('x-ratelimit-* headers', () => {
  it('writes resets as OpenAI does', () => {
    expect(duration(1)).toBe('1s');
    expect(duration(59)).toBe('59s');
    expect(duration(360)).toBe('6m0s');
    expect(duration(11 * 3600 + 48 * 60)).toBe('11h48m0s');
    expect(duration(26 * 24 * 3600 + 5)).toBe('624h0m5s');
  });

  it('names only the limits that apply', () => {
    expect(rateLimitHeaders({ requests: null, tokens: null })).toEqual({});
    expect(
      rateLimitHeaders({ requests: { limit: 60, remaining: 59, resetSeconds: 12 }, tokens: null }),
    ).toEqual({
      'x-ratelimit-limit-requests': '60',
      'x-ratelimit-remaining-requests': '59',
      'x-ratelimit-reset-requests': '12s',
    });
  });

  it('shows the limit with the least left', () => {
    const user = { limit: 100, remaining: 40, resetSeconds: 30 };
    const key = { limit: 50, remaining: 45, resetSeconds: 30 };
    expect(tighter(tighter(null, user), key)).toBe(user);
    expect(tighter(tighter(null, key), user)).toBe(user);
  });
});
