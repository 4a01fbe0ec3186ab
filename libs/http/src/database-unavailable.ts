/**
 * Telling "the database is away" (down, restarting, failing over, unreachable, or the server we
 * reached cannot take writes) from every other failure, so clients get 503 with Retry-After and
 * can try again, instead of a 500 that blames Enclave for an outage it will recover from.
 */

/** Seconds a client is asked to wait before retrying while the database is away. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** Thrown by code that knows the database cannot be used right now (e.g. no primary is known). */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
}

// Socket-level failures raised by the pg driver while connecting or mid-query.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

// SQLSTATEs: class 08 (connection exception) and these: read-only transaction (a standby),
// administrator/crash shutdown, cannot connect now (starting up), too many connections.
const SQLSTATES = new Set(['25006', '57P01', '57P02', '57P03', '53300']);

// pg and pg-pool report some connection failures only in their message.
const MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
];

/**
 * True when `err` (or what it wraps: TypeORM's `driverError`, `cause`) says the database is away.
 * Socket errors count only as thrown by the driver itself (top level or `driverError`): a
 * `fetch` to an identity provider or an LLM backend carries the same codes in its `cause`.
 */
export function isDatabaseUnavailable(err: unknown, depth = 0, fromDriver = true): boolean {
  if (typeof err !== 'object' || err === null || depth > 4) return false;
  if (err instanceof DatabaseUnavailableError) return true;
  const { code, syscall, message, driverError, cause } = err as {
    code?: unknown;
    syscall?: unknown;
    message?: unknown;
    driverError?: unknown;
    cause?: unknown;
  };
  if (typeof code === 'string') {
    if (SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true;
    if (fromDriver && NETWORK_CODES.has(code)) return true;
    // A Unix socket that is not there: the server is stopped.
    if (fromDriver && code === 'ENOENT' && syscall === 'connect') return true;
  }
  if (typeof message === 'string' && MESSAGES.some((m) => message.includes(m))) return true;
  return (
    isDatabaseUnavailable(driverError, depth + 1, fromDriver) ||
    isDatabaseUnavailable(cause, depth + 1, false)
  );
}
