// The string schemas live in the contracts (the web UIs validate with them too).
export { text, line, queryInt, ONE_LINE } from '@enclave/contracts';

/** The largest value of a Postgres bigint, for ids given as text. */
export const MAX_BIGINT = 9_223_372_036_854_775_807n;

/**
 * Where in a JSON value (a key or a string) the first text is that Postgres cannot store as sent,
 * and why: a NUL (refused in text and jsonb) or half of a surrogate pair (jsonb refuses its
 * escape, text would store U+FFFD instead); null when there is none.
 */
export function findUnstorable(
  value: unknown,
  path: string[] = [],
  depth = 0,
): { path: string[]; why: string } | null {
  if (typeof value === 'string') {
    const why = unstorable(value);
    return why ? { path, why } : null;
  }
  if (typeof value !== 'object' || value === null || depth > 64) return null;
  for (const [key, item] of Object.entries(value)) {
    const why = unstorable(key);
    if (why) return { path: [...path, key], why };
    const found = findUnstorable(item, [...path, key], depth + 1);
    if (found) return found;
  }
  return null;
}

/** In `u` mode a pair is one code point, so only a half on its own is a surrogate (Cs). */
const LONE_SURROGATE = /\p{Cs}/u;

function unstorable(s: string): string | null {
  if (s.includes('\u0000')) return 'must not contain NUL characters';
  if (LONE_SURROGATE.test(s)) {
    return 'must be well-formed Unicode (it holds half of a surrogate pair)';
  }
  return null;
}
