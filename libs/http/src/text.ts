// The string schemas live in the contracts (the web UIs validate with them too).
export { text, line, queryInt, ONE_LINE } from '@enclave/contracts';

/** The largest value of a Postgres bigint, for ids given as text. */
export const MAX_BIGINT = 9_223_372_036_854_775_807n;

/** Where in a JSON value the first NUL (in a key or a string) is, or null when there is none. */
export function findNul(value: unknown, path: string[] = [], depth = 0): string[] | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (typeof value !== 'object' || value === null || depth > 64) return null;
  for (const [key, item] of Object.entries(value)) {
    if (key.includes('\u0000')) return [...path, key];
    const found = findNul(item, [...path, key], depth + 1);
    if (found) return found;
  }
  return null;
}
