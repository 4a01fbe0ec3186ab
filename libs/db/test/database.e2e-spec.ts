import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  MIGRATIONS,
  SettingsRepository,
  dataSourceOptions,
  pendingMigrations,
  runMigrations,
} from '@enclave/db';
import { testConfig } from '../../../test/support/config.js';
import { createTestDatabase } from '../../../test/support/postgres.js';

interface Backend {
  url: string;
  stop(): Promise<void>;
}

const backends: [string, () => Promise<Backend>][] = [
  [
    'real Postgres',
    async () => {
      const db = await createTestDatabase();
      return { url: db.url, stop: db.drop };
    },
  ],
];

// Expected errors (a refused key) would otherwise print through Nest's console logger.
Logger.overrideLogger(false);

const ALL = MIGRATIONS.map((M) => new M().name);

describe.each(backends)('database on %s', (_label, start) => {
  let backend: Backend;
  const open: DataSource[] = [];

  async function dataSource(): Promise<DataSource> {
    const ds = new DataSource(dataSourceOptions(testConfig({ DATABASE_URL: backend.url }), 'test'));
    await ds.initialize();
    open.push(ds);
    return ds;
  }

  beforeAll(async () => {
    backend = await start();
  });

  afterAll(async () => {
    await Promise.all(open.map((ds) => ds.destroy()));
    await backend.stop();
  });

  it('starts with every migration pending, applies them in order, then has none pending', async () => {
    const ds = await dataSource();
    expect(await pendingMigrations(ds)).toEqual(ALL);
    expect(await runMigrations(ds)).toEqual(ALL);
    expect(await pendingMigrations(ds)).toEqual([]);
    expect(await runMigrations(ds)).toEqual([]);
    const [{ n }] = await ds.query('SELECT count(*)::int AS n FROM enclave_migrations');
    expect(n).toBe(ALL.length);
  });

  it('stores, replaces, lists and deletes settings as JSON', async () => {
    const settings = new SettingsRepository(await dataSource());
    await settings.set('audit.content_level', 'metadata');
    const first = await settings.set('cache.scope', { scope: 'user', ttlSeconds: 600 });
    const second = await settings.set('cache.scope', { scope: 'global', ttlSeconds: 60 });
    expect(second.updatedAt.getTime()).toBeGreaterThanOrEqual(first.updatedAt.getTime());
    expect((await settings.get('cache.scope'))?.value).toEqual({ scope: 'global', ttlSeconds: 60 });
    expect((await settings.list()).map((s) => s.key)).toEqual([
      'audit.content_level',
      'cache.scope',
    ]);
    expect(await settings.delete('cache.scope')).toBe(true);
    expect(await settings.delete('cache.scope')).toBe(false);
    expect(await settings.get('cache.scope')).toBeNull();
  });

  it('refuses a malformed key and keeps what was stored', async () => {
    const settings = new SettingsRepository(await dataSource());
    await expect(settings.set('Bad Key!', 1)).rejects.toThrow(/check constraint/);
    expect((await settings.get('audit.content_level'))?.value).toBe('metadata');
  });
});

describe.each(backends)(
  'migrations started by several processes at once on %s',
  (_label, start) => {
    it('apply each migration exactly once', async () => {
      const backend = await start();
      const sources = await Promise.all(
        [1, 2, 3].map(async () => {
          const ds = new DataSource(
            dataSourceOptions(testConfig({ DATABASE_URL: backend.url }), 'test'),
          );
          return ds.initialize();
        }),
      );
      try {
        const applied = await Promise.all(sources.map((ds) => runMigrations(ds)));
        expect(applied.flat().sort()).toEqual([...ALL].sort());
        const [{ n }] = await sources[0]!.query(
          'SELECT count(*)::int AS n FROM enclave_migrations',
        );
        expect(n).toBe(ALL.length);
      } finally {
        await Promise.all(sources.map((ds) => ds.destroy()));
        await backend.stop();
      }
    });
  },
);
