import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { AuditLog, type AuditEvent } from '@enclave/audit';
import { AuditSealer, generateSigningKey, type SigningKey } from '@enclave/audit-chain';
import { dataSourceOptions, runMigrations } from '@enclave/db';
import { testConfig } from '../../../test/support/config.js';
import {
  adminQuery,
  createTestDatabase,
  type TestDatabase,
} from '../../../test/support/postgres.js';

Logger.overrideLogger(false);

export const quietLog = { info: () => {}, warn: () => {}, error: () => {} };

export function tempKey(): { key: SigningKey; path: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'enclave-audit-'));
  const path = join(dir, 'signing-key.pem');
  return { key: generateSigningKey(path), path, dir };
}

export async function openDataSource(url: string): Promise<DataSource> {
  const ds = new DataSource(dataSourceOptions(testConfig({ DATABASE_URL: url }), 'test'));
  await ds.initialize();
  return ds;
}

export async function migratedDatabase(): Promise<{ db: TestDatabase; ds: DataSource }> {
  const db = await createTestDatabase();
  const ds = await openDataSource(db.url);
  await runMigrations(ds);
  return { db, ds };
}

export function event(i: number, extra: Partial<AuditEvent> = {}): AuditEvent {
  return {
    actor: {
      type: 'user',
      id: '00000000-0000-4000-8000-00000000000' + (i % 3),
      label: `user${i % 3}@example.com`,
    },
    action: i % 2 ? 'chat.completion' : 'auth.login.succeeded',
    target: { type: 'message', id: `m${i}` },
    outcome: 'success',
    meta: { ip: '10.0.0.1', userAgent: 'jest', requestId: `req-${i}` },
    payload: { n: i, model: 'enclave-sim', nested: { b: [1, 2, { z: true, a: null }], a: 'é' } },
    ...extra,
  };
}

export async function appendEvents(ds: DataSource, from: number, count: number): Promise<void> {
  const audit = new AuditLog();
  for (let i = from; i < from + count; i++) {
    await ds.transaction((m) => audit.append(m, event(i)));
  }
}

/** Seals everything queued, in this process, batch by batch. */
export async function sealAll(
  url: string,
  key: SigningKey | null,
  checkpointEvery = 10,
): Promise<void> {
  const sealer = new AuditSealer({
    databaseUrl: url,
    signingKey: key,
    checkpointEvery,
    checkpointSeconds: 3_600,
    intervalMs: 10,
    unsealedAlertSeconds: 60,
    batchSize: 7,
    log: quietLog,
  });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    while ((await sealer.sealBatch(client)) > 0);
  } finally {
    await client.end();
  }
}

/** A copy of a database (CREATE DATABASE … TEMPLATE), for tampering without redoing the setup. */
export async function copyDatabase(source: TestDatabase): Promise<TestDatabase> {
  const copy = await createTestDatabase();
  await adminQuery(`DROP DATABASE ${copy.name}`);
  await adminQuery(`CREATE DATABASE ${copy.name} TEMPLATE ${source.name}`);
  return copy;
}
