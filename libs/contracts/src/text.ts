import { z } from 'zod';

/**
 * Text a person may write over several lines: no NUL (Postgres text and jsonb refuse it, which
 * used to surface as a 500) and no other C0 control character or DEL; tab, line feed and carriage
 * return are fine.
 */
// eslint-disable-next-line no-control-regex -- control characters are what these refuse
const MULTI_LINE = /^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]*$/;
/** One line: no control character at all (names, emails, titles, search terms, ids). */
// eslint-disable-next-line no-control-regex -- as above
export const ONE_LINE = /^[^\u0000-\u001F\u007F]*$/;

/** A string schema for free text (messages, prompts, reasons); chain `.trim().min().max()` on it. */
export function text(): z.ZodString {
  return z.string().regex(MULTI_LINE, 'must not contain NUL or control characters');
}

/** A string schema for a one-line value; chain `.trim().min().max()` on it. */
export function line(): z.ZodString {
  return z.string().regex(ONE_LINE, 'must be one line without NUL or control characters');
}

/**
 * A whole number in a query string (`?limit=50`) within bounds: digits only, so `1e3`, `-1` and
 * `9999999999999999999` are a 400, never a number the database cannot hold.
 */
export function queryInt(min: number, max: number) {
  return z
    .string()
    .regex(new RegExp(`^\\d{1,${String(max).length}}$`), 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}
