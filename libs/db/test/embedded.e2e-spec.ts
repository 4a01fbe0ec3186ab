import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DataSource } from 'typeorm';
import {
  EmbeddedPostgres,
  MIGRATIONS,
  OldEmbeddedDataError,
  dataSourceOptions,
  embeddedPaths,
  runMigrations,
} from '@enclave/db';
import { testConfig } from '../../../test/support/config.js';
import { freePort } from '../../../test/support/ports.js';

/** Every path under `dir` (itself included) with its permission bits. */
export function modesUnder(dir: string): { path: string; mode: number }[] {
  const out = [{ path: dir, mode: statSync(dir).mode & 0o777 }];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...modesUnder(path));
    else if (!entry.isSymbolicLink()) out.push({ path, mode: statSync(path).mode & 0o777 });
  }
  return out;
}

describe('the embedded database (a real PostgreSQL in ENCLAVE_DATA_DIR/postgres)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'enclave-embedded-'));
  let port: number;
  let db: EmbeddedPostgres | undefined;

  beforeAll(async () => {
    port = await freePort();
    db = await EmbeddedPostgres.start({ dataDir, port, stdio: 'ignore' });
  });

  afterAll(async () => {
    await db?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs every migration through the ordinary connection string', async () => {
    const ds = new DataSource(
      dataSourceOptions(
        testConfig({ ENCLAVE_DATA_DIR: dataDir, ENCLAVE_EMBEDDED_DB_PORT: String(port) }),
        'test',
      ),
    );
    await ds.initialize();
    try {
      expect(await runMigrations(ds)).toHaveLength(MIGRATIONS.length);
      const [{ server_version: version }] = await ds.query('SHOW server_version');
      expect(version).toMatch(/^18\./);
    } finally {
      await ds.destroy();
    }
  });

  it('refuses a connection without the password, or with a wrong one', async () => {
    for (const url of [
      `postgres://postgres@127.0.0.1:${port}/postgres`,
      `postgres://postgres:wrong@127.0.0.1:${port}/postgres`,
    ]) {
      const client = new pg.Client({ connectionString: url, password: undefined });
      client.on('error', () => undefined);
      await expect(client.connect()).rejects.toThrow(/password/);
      await client.end().catch(() => undefined);
    }
  });

  it('keeps the data dir closed to others: nothing is readable, writable or enterable by them', () => {
    const { root, pgdata, passwordFile } = embeddedPaths(dataDir);
    const modes = modesUnder(root);
    expect(modes.filter((m) => m.mode & 0o007)).toEqual([]);
    // Only the top folder may let the server's group pass through (as root it runs as `postgres`).
    expect(modes.filter((m) => m.path !== root && m.mode & 0o070)).toEqual([]);
    expect(statSync(root).mode & 0o777).toBe(process.getuid?.() === 0 ? 0o710 : 0o700);
    expect(statSync(pgdata).mode & 0o777).toBe(0o700);
    expect(statSync(passwordFile).mode & 0o777).toBe(0o600);
  });

  it('starts again on the same data (after being killed) with what was committed', async () => {
    const client = new pg.Client({ connectionString: db!.url });
    await client.connect();
    await client.query('CREATE TABLE kept (v text)');
    await client.query(`INSERT INTO kept VALUES ('before the kill')`);
    await client.end();
    const pid = db!.pid;
    process.kill(pid, 'SIGKILL');
    expect(await db!.exited).toEqual({ code: null, signal: 'SIGKILL' });
    // Backends orphaned by the kill may still hold the shared memory for a moment.
    let restarted: EmbeddedPostgres | undefined;
    for (let attempt = 0; !restarted && attempt < 20; attempt++) {
      try {
        restarted = await EmbeddedPostgres.start({ dataDir, port, stdio: 'ignore' });
      } catch {
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    db = restarted;
    expect(db!.pid).not.toBe(pid);
    const again = new pg.Client({ connectionString: db!.url });
    await again.connect();
    const { rows } = await again.query('SELECT v FROM kept');
    await again.end();
    expect(rows).toEqual([{ v: 'before the kill' }]);
  });

  it('takes over from a server of the same data dir left running by a killed owner', async () => {
    const leftover = db!;
    // Another start while the first server still runs, as after a killed launcher.
    db = await EmbeddedPostgres.start({ dataDir, port, stdio: 'ignore' });
    expect(await leftover.exited).toEqual({ code: 0, signal: null });
    expect(db.pid).not.toBe(leftover.pid);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    expect((await client.query('SELECT v FROM kept')).rows).toEqual([{ v: 'before the kill' }]);
    await client.end();
  });

  it('recognises a data dir of the old default (PGlite) and says what to do, starting nothing', async () => {
    const old = mkdtempSync(join(tmpdir(), 'enclave-old-'));
    mkdirSync(join(old, 'pglite'));
    try {
      const started = EmbeddedPostgres.start({ dataDir: old, port: await freePort() });
      await expect(started).rejects.toThrow(OldEmbeddedDataError);
      await expect(started).rejects.toThrow(/old embedded default \(PGlite\).*mv .*pglite/);
      expect(readdirSync(old)).toEqual(['pglite']);
    } finally {
      rmSync(old, { recursive: true, force: true });
    }
  });
});
