import { DatabaseUnavailableError, isDatabaseUnavailable } from './database-unavailable.js';
import { toApiError } from './error.filter.js';

describe('isDatabaseUnavailable', () => {
  it('recognises the ways pg, pg-pool and TypeORM report a database that is away', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
    });
    const shutdown = Object.assign(
      new Error('terminating connection due to administrator command'),
      {
        code: '57P01',
      },
    );
    const readOnly = Object.assign(new Error('cannot execute INSERT in a read-only transaction'), {
      code: '25006',
    });
    const connectionClass = Object.assign(new Error('connection failure'), { code: '08006' });
    const terminated = new Error('Connection terminated unexpectedly');
    const poolTimeout = new Error('timeout exceeded when trying to connect');
    // TypeORM's QueryFailedError keeps the driver's error in driverError.
    const wrapped = Object.assign(new Error('query failed'), { driverError: shutdown });
    const caused = new Error('could not begin', { cause: shutdown });
    const socketGone = Object.assign(new Error('connect ENOENT /data/postgres/.s.PGSQL.5432'), {
      code: 'ENOENT',
      syscall: 'connect',
    });
    for (const err of [
      refused,
      shutdown,
      readOnly,
      connectionClass,
      terminated,
      poolTimeout,
      wrapped,
      caused,
      socketGone,
      new DatabaseUnavailableError('no Postgres primary found'),
    ]) {
      expect(isDatabaseUnavailable(err)).toBe(true);
    }
  });

  it('leaves query errors and bugs alone', () => {
    const uniqueViolation = Object.assign(new Error('duplicate key'), { code: '23505' });
    const syntax = Object.assign(new Error('syntax error'), { code: '42601' });
    // fetch() to an identity provider or backend: same socket code, but in the cause.
    const fetchFailed = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    });
    const missingFile = Object.assign(new Error('ENOENT: no such file'), {
      code: 'ENOENT',
      syscall: 'open',
    });
    for (const err of [
      uniqueViolation,
      syntax,
      fetchFailed,
      missingFile,
      new TypeError('x is undefined'),
      'text',
      null,
    ]) {
      expect(isDatabaseUnavailable(err)).toBe(false);
    }
  });

  it('becomes 503 database_unavailable with Retry-After and no internal text', () => {
    const error = toApiError(
      Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:5432'), { code: 'ECONNREFUSED' }),
    );
    expect(error.getStatus()).toBe(503);
    expect(error.code).toBe('database_unavailable');
    expect(error.headers['Retry-After']).toBe('5');
    expect(error.message).not.toContain('10.0.0.7');
  });
});
