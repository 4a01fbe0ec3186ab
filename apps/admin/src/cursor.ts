import { ApiError } from '@enclave/http';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UTC_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** A page cursor as clients see it: opaque base64url JSON. */
export function encodeCursor(value: Record<string, string>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/**
 * Decodes a cursor of an exact timestamp (microseconds, UTC) under `timeKey` and a uuid `id`;
 * anything else is a 400 `invalid_cursor` naming the parameter.
 */
export function decodeCursor<K extends string>(
  cursor: string,
  param: string,
  [timeKey]: [K],
): Record<K, string> & { id: string } {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    const fields = (parsed ?? {}) as Record<string, unknown>;
    const at = fields[timeKey];
    const { id } = fields;
    if (
      typeof at === 'string' &&
      UTC_MICROS.test(at) &&
      !Number.isNaN(Date.parse(at)) &&
      typeof id === 'string' &&
      UUID.test(id)
    ) {
      return { [timeKey]: at, id } as Record<K, string> & { id: string };
    }
  } catch {
    // falls through to the error below
  }
  throw new ApiError(
    400,
    'invalid_cursor',
    `'${param}' is not valid; pass it exactly as a previous page returned it.`,
    { param },
  );
}
