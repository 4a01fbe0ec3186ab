import { isUuid } from '@enclave/http';

/**
 * Where a page of conversations ends: the last row's exact `updated_at` and its id. `updatedAt`
 * is Postgres's own text of the timestamp, to the microsecond: a JS Date keeps milliseconds only,
 * and a cursor rounded to them would skip rows updated later within the same millisecond.
 */
export interface ConversationKey {
  updatedAt: string;
  id: string;
}

const UTC_MICROS = /^([1-9]\d{3}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\.\d{6}Z$/;
/** A genuine cursor is about 100 characters; anything much longer is not one. */
const MAX_CURSOR_LENGTH = 256;

/** The opaque cursor the API hands out: base64url of `{"updatedAt","id"}`. */
export function encodeCursor(key: ConversationKey): string {
  return Buffer.from(JSON.stringify({ updatedAt: key.updatedAt, id: key.id })).toString(
    'base64url',
  );
}

/** The key a cursor stands for, or null when it is not one this API handed out. */
export function decodeCursor(cursor: string): ConversationKey | null {
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH) return null;
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const { updatedAt, id } = parsed as Record<string, unknown>;
  if (typeof updatedAt !== 'string' || typeof id !== 'string' || !isUuid(id)) return null;
  const m = UTC_MICROS.exec(updatedAt);
  // Date.parse accepts 2025-02-30 (as March 2nd); Postgres would refuse it with a 500.
  if (!m || Number.isNaN(Date.parse(updatedAt))) return null;
  if (new Date(updatedAt).toISOString().slice(0, 19) !== m[1]) return null;
  return { updatedAt, id: id.toLowerCase() };
}
