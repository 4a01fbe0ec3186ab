import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyOutOf, sqlOf, verifyExport, writeExport } from '@enclave/audit';
import { type EmbeddedPostgres, runMigrations, startEmbeddedPostgres } from '@enclave/db';
import type { DataSource } from 'typeorm';
import { appendEvents, openDataSource, sealAll, tempKey } from './chain-fixture.js';

// The appliance's default database is PGlite served over the wire protocol: the exporter's
// COPY … TO STDOUT must work there too, not only on a real Postgres.
describe('an export on the embedded database (PGlite)', () => {
  let embedded: EmbeddedPostgres;
  let ds: DataSource;
  const { key } = tempKey();

  beforeAll(async () => {
    embedded = await startEmbeddedPostgres({ dataDir: 'memory://', port: 0 });
    ds = await openDataSource(embedded.url);
    await runMigrations(ds);
    await appendEvents(ds, 0, 30);
    await sealAll(embedded.url, key, 10);
  });

  afterAll(async () => {
    await ds?.destroy();
    await embedded?.stop();
  });

  it('writes every sealed event and verifies offline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enclave-export-embedded-'));
    const { manifestPath, manifest } = await writeExport({
      sql: sqlOf(ds),
      copyOut: copyOutOf(ds),
      dir,
      name: 'embedded',
      format: 'jsonl',
      filter: { action: 'chat.*' },
      signingKey: key,
      createdBy: 'test',
    });
    expect(manifest.dataFile.events).toBe(15);
    const lines = readFileSync(join(dir, 'embedded.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { action: string }).action)).toEqual(
      Array(15).fill('chat.completion'),
    );
    const v = await verifyExport(manifestPath, key.publicKey);
    expect(v.problems).toEqual([]);
    expect(v.events).toBe(15);
    // The database is still usable after the COPY (its connection went back to the pool).
    expect(await ds.query('SELECT count(*)::int AS n FROM audit_chain')).toEqual([{ n: 30 }]);
  });
});
