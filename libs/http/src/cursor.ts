import { ApiError } from './api-error.js';
import { isUuid } from '@enclave/contracts';

/**
 * Page cursors of every list that pages by (timestamp, id), chat and admin alike: opaque
 * base64url of `{"<timeKey>": "<UTC time to the microsecond>", "id": "<uuid>"}`. The time is
 * Postgres's own text of the row's timestamp: a JS Date keeps milliseconds only, and a cursor
 * rounded to them would skip rows written later within the same millisecond.
 */
export type PageKey<K extends string> = Record<K, string> & { id: string };

const UTC_MICROS = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\.\d{6}Z$/;
/** A genuine cursor is about 100 characters; anything much longer is not one. */
const MAX_CURSOR_LENGTH = 256;

export function encodeCursor<K extends string>(timeKey: K, key: PageKey<K>): string {
  return Buffer.from(JSON.stringify({ [timeKey]: key[timeKey], id: key.id })).toString('base64url');
}

/** The key a cursor stands for, or null when it is not one this API handed out. */
export function decodeCursor<K extends string>(timeKey: K, cursor: string): PageKey<K> | null {
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH) return null;
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const fields = parsed as Record<string, unknown>;
  const at = fields[timeKey];
  const { id } = fields;
  if (typeof at !== 'string' || typeof id !== 'string' || !isUuid(id)) return null;
  if (!isRealUtcTime(at)) return null;
  return { [timeKey]: at, id: id.toLowerCase() } as PageKey<K>;
}

/** decodeCursor, or a 400 `invalid_cursor` naming the query parameter. */
export function cursorParam<K extends string>(
  timeKey: K,
  cursor: string,
  param: string,
): PageKey<K> {
  const key = decodeCursor(timeKey, cursor);
  if (key) return key;
  throw new ApiError(
    400,
    'invalid_cursor',
    `'${param}' is not valid; pass it exactly as a previous page returned it, or leave it out to start from the top.`,
    { param },
  );
}

/**
 * A time Postgres accepts as it is: Date.parse takes 2025-02-30 (as March 2nd) and Postgres
 * refuses it, so the calendar date must survive a round trip unchanged.
 */
function isRealUtcTime(value: string): boolean {
  const m = UTC_MICROS.exec(value);
  if (!m || m[1]!.startsWith('0000')) return false;
  const ms = Date.parse(value);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 19) === m[1];
}
