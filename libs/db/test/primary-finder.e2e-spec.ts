import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { dataSourceOptions, pgClient, PrimaryFinder, parsePostgresUrl } from '@enclave/db';
import { DatabaseUnavailableError } from '@enclave/http';
import { testConfig } from '../../../test/support/config.js';
import { freePort } from '../../../test/support/ports.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.js';
import { TcpProxy } from '../../../test/support/tcp-proxy.js';

// Two "servers" that are the same real Postgres seen through two TCP proxies: cutting one is a
// primary that died. (A real Patroni cluster with failover: test/deploy/patroni-failover.)
Logger.overrideLogger(false);

function hostsUrl(dbUrl: string, ports: number[]): string {
  const u = new URL(dbUrl);
  const auth = u.username ? `${u.username}${u.password ? `:${u.password}` : ''}@` : '';
  return `postgres://${auth}${ports.map((p) => `127.0.0.1:${p}`).join(',')}${u.pathname}`;
}

describe('several Postgres hosts in DATABASE_URL', () => {
  let db: TestDatabase;
  const proxies: TcpProxy[] = [];
  const open: DataSource[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(open.map((ds) => ds.destroy().catch(() => undefined)));
    await Promise.all(proxies.map((p) => p.stop()));
    await db.drop();
  });

  async function proxy(): Promise<TcpProxy> {
    const p = TcpProxy.forUrl(db.url);
    await p.start();
    proxies.push(p);
    return p;
  }

  it('finds the one that answers, skipping a host that is down', async () => {
    const up = await proxy();
    const down = await freePort();
    const finder = new PrimaryFinder(parsePostgresUrl(hostsUrl(db.url, [down, up.port])), 1_000);
    expect(await finder.primary()).toEqual({ host: '127.0.0.1', port: up.port });
  });

  it('says which host failed how when none is a primary', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const finder = new PrimaryFinder(parsePostgresUrl(hostsUrl(db.url, [a, b])), 1_000);
    await expect(finder.primary()).rejects.toThrow(
      new RegExp(`^no Postgres primary found \\(127.0.0.1:${a}: .*; 127.0.0.1:${b}: `),
    );
  });

  it('refuses to write anywhere while two hosts accept writes (split brain fails closed)', async () => {
    const a = await proxy();
    const b = await proxy();
    const finder = new PrimaryFinder(parsePostgresUrl(hostsUrl(db.url, [a.port, b.port])), 1_000);
    const refusal = finder.primary();
    await expect(refusal).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await expect(refusal).rejects.toThrow(/more than one Postgres server accepts writes/);
  });

  it('moves a DataSource and a LISTEN client to the next host when the one in use dies', async () => {
    const first = await proxy();
    const second = await proxy();
    // Only one server is writable at a time, as after a failover: the second is down at first.
    await second.cut();
    const url = hostsUrl(db.url, [first.port, second.port]);
    const ds = new DataSource(
      dataSourceOptions(testConfig({ DATABASE_URL: url, DATABASE_POOL_SIZE: '3' }), 'test'),
    );
    await ds.initialize();
    open.push(ds);
    await ds.query('CREATE TABLE writes (n int PRIMARY KEY)');
    await ds.query('INSERT INTO writes VALUES (1)');

    await first.cut();
    await second.restore();
    // The pooled connections through `first` are gone; the next writes must go through `second`.
    let written = 0;
    for (let n = 2; n <= 20 && written < 5; n++) {
      try {
        await ds.query('INSERT INTO writes VALUES ($1)', [n]);
        written++;
      } catch {
        // a connection that died with the host: the pool drops it and the next one is new
      }
    }
    expect(written).toBe(5);
    const [{ count }] = await ds.query('SELECT count(*)::int AS count FROM writes');
    expect(count).toBeGreaterThanOrEqual(6);

    const client = pgClient(url, { connectionTimeoutMillis: 2_000 });
    await client.connect();
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await client.end();
  });
});
