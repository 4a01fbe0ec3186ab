import { parsePostgresUrl } from '@enclave/db';
import { testConfig } from '../../../test/support/config.js';

describe('parsePostgresUrl', () => {
  it('reads every host of a libpq-style multi-host URL, in order, with default ports', () => {
    const url = parsePostgresUrl(
      'postgres://enclave:s3cr%40t@db1:5432,db2,[::1]:5434/enclave?sslmode=require',
    );
    expect(url.hosts).toEqual([
      { host: 'db1', port: 5432 },
      { host: 'db2', port: 5432 },
      { host: '::1', port: 5434 },
    ]);
    expect(url.forHost(url.hosts[1]!)).toBe(
      'postgres://enclave:s3cr%40t@db2:5432/enclave?sslmode=require',
    );
    expect(url.forHost(url.hosts[2]!)).toBe(
      'postgres://enclave:s3cr%40t@[::1]:5434/enclave?sslmode=require',
    );
  });

  it('reads a plain URL as one host', () => {
    expect(parsePostgresUrl('postgresql://u@db:6543/x').hosts).toEqual([
      { host: 'db', port: 6543 },
    ]);
  });

  it('refuses a bad host without echoing the password', () => {
    expect(() => parsePostgresUrl('postgres://u:hunter2@db1:5432,db2:nope/x')).toThrow(
      'host "db2:nope" is not host or host:port',
    );
    expect(() => parsePostgresUrl('mysql://u:hunter2@db/x')).toThrow(/^not a postgres/);
  });
});

describe('DATABASE_URL', () => {
  it('accepts several hosts', () => {
    const config = testConfig({ DATABASE_URL: 'postgres://u:p@db1:5432,db2:5433/enclave' });
    expect(config.database.url).toBe('postgres://u:p@db1:5432,db2:5433/enclave');
  });

  it('refuses a host list with a bad port, naming the key', () => {
    expect(() => testConfig({ DATABASE_URL: 'postgres://u:p@db1:5432,db2:x/enclave' })).toThrow(
      /^config: DATABASE_URL=.* is invalid .*expected a postgres:\/\//,
    );
  });
});
