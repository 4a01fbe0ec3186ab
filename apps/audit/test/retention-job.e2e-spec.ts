import type { INestApplication } from '@nestjs/common';
import { AuditLog } from '@enclave/audit';
import { runMigrations } from '@enclave/db';
import { RuntimePoliciesService } from '@enclave/policy';
import { DataSource } from 'typeorm';
import { AuditAppModule } from '../src/audit.module.js';
import { RetentionService } from '../src/retention.service.js';
import { SealerService } from '../src/sealer.service.js';
import { startApp } from '../../../test/support/app.js';
import { testConfig } from '../../../test/support/config.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.js';
import { tempKey } from '../../../libs/audit-chain/test/chain-fixture.js';

// The audit app runs retention itself: only the instance whose sealer holds the lock, on its
// interval, with the policies set from the console.

let db: TestDatabase;
let active: INestApplication;
let standby: INestApplication;
let ds: DataSource;

async function until<T>(probe: () => Promise<T | null | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  const config = testConfig({
    DATABASE_URL: db.url,
    AUDIT_SIGNING_KEY_FILE: tempKey().path,
    AUDIT_RETENTION_INTERVAL_SECONDS: '1',
    AUDIT_SEAL_INTERVAL_MS: '20',
  });
  active = await startApp(AuditAppModule.forRoot(config), config);
  ds = active.get(DataSource);
  await runMigrations(ds);
  await until(async () => active.get(SealerService).status?.active, 'the first sealer');
  standby = await startApp(AuditAppModule.forRoot(config), config);
});

afterAll(async () => {
  await standby?.close();
  await active?.close();
  await db?.drop();
});

it('the active instance prunes events past the policy; the standby does not run it', async () => {
  await active.get(RuntimePoliciesService).updateNow({
    auditRetentionDays: { default: 30, byKind: {} },
  });
  await ds.transaction(async (m) => {
    await new AuditLog().append(m, {
      actor: { type: 'system', label: 'test' },
      action: 'test.old',
      outcome: 'success',
      payload: { n: 1 },
    });
    await m.query(
      `UPDATE audit_events SET occurred_at = now() - interval '40 days' WHERE action = 'test.old'`,
    );
  });
  const [applied] = await until(async () => {
    const rows: { payload: Record<string, unknown> }[] = await ds.query(
      `SELECT payload FROM audit_events WHERE action = 'audit.retention.applied'`,
    );
    return rows.length ? rows : null;
  }, 'audit.retention.applied');
  expect(applied!.payload).toMatchObject({ auditEventsPruned: 1 });
  const [{ n }] = await ds.query(
    `SELECT count(*)::int AS n FROM audit_events WHERE action = 'test.old'`,
  );
  expect(n).toBe(0);
  expect(standby.get(SealerService).status?.active).toBe(false);
  expect(standby.get(RetentionService).lastResult).toBeNull();
});
