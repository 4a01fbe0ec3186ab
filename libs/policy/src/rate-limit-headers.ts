/**
 * Where a caller stands against its limits, as OpenAI tells its API clients: the
 * `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` headers. With a user and a key limit
 * both in force (or a daily and a monthly token quota), the one with the least left is shown.
 */
export interface LimitStanding {
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

export interface RateLimitStanding {
  requests: LimitStanding | null;
  tokens: LimitStanding | null;
}

export const NO_LIMITS: RateLimitStanding = { requests: null, tokens: null };

/** The tighter of two standings (the one with less remaining). */
export function tighter(a: LimitStanding | null, b: LimitStanding): LimitStanding {
  return a && a.remaining <= b.remaining ? a : b;
}

/** The headers for a standing; none for a limit that does not apply. */
export function rateLimitHeaders(standing: RateLimitStanding): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const kind of ['requests', 'tokens'] as const) {
    const s = standing[kind];
    if (!s) continue;
    headers[`x-ratelimit-limit-${kind}`] = String(s.limit);
    headers[`x-ratelimit-remaining-${kind}`] = String(s.remaining);
    headers[`x-ratelimit-reset-${kind}`] = duration(s.resetSeconds);
  }
  return headers;
}

/** Seconds as OpenAI writes a reset time: `59s`, `6m0s`, `13h2m5s`. */
export function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h) return `${h}h${m}m${s}s`;
  if (m) return `${m}m${s}s`;
  return `${s}s`;
}
