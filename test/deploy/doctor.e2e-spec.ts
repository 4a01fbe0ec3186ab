import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { SEALER_LOCK } from '@enclave/audit-chain';
import { createLlmSim, type LlmSim } from '../../apps/llm-sim/src/simulator.js';
import { SIM_DEFAULTS } from '../support/chat-harness.js';
import { selfSignedCert } from '../support/nginx.js';
import { freePort } from '../support/ports.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

// `enclave doctor` as an operator runs it: the built CLI, a real database and upstream.
const ENCLAVE = fileURLToPath(new URL('../../scripts/enclave.mjs', import.meta.url));
const run = promisify(execFile);

async function doctor(env: Record<string, string>, cert: string) {
  try {
    const { stdout } = await run(process.execPath, [ENCLAVE, 'doctor', '--cert', cert], {
      env: { PATH: process.env.PATH, ENCLAVE_CONFIG: '', ...env },
    });
    return { code: 0, stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout };
  }
}

describe('enclave doctor', () => {
  let dir: string;
  let db: TestDatabase;
  let sim: LlmSim;
  let upstream: string;
  let cert: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'enclave-doctor-'));
    db = await createTestDatabase();
    sim = createLlmSim({ ...SIM_DEFAULTS });
    upstream = `http://127.0.0.1:${await sim.listen(0)}/v1`;
    cert = (await selfSignedCert(dir)).cert;
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names what is wrong and what to do: migrations pending, upstream down, self-signed cert', async () => {
    const { code, stdout } = await doctor(
      { DATABASE_URL: db.url, ENCLAVE_UPSTREAM_URL: `http://127.0.0.1:${await freePort()}/v1` },
      cert,
    );
    expect(code).toBe(1);
    expect(stdout).toMatch(/^ok {3}database: the primary answers$/m);
    expect(stdout).toMatch(/^FAIL migrations: not applied: .*\n +fix: run `enclave migrate`/m);
    expect(stdout).toMatch(
      /^FAIL upstream: http:\/\/127\.0\.0\.1:\d+\/v1\/models does not answer/m,
    );
    expect(stdout).toMatch(/^WARN certificate: .*self-signed\n +fix: replace it/m);
  });

  it('passes once migrated, with the upstream up', async () => {
    const env = { DATABASE_URL: db.url, ENCLAVE_UPSTREAM_URL: upstream };
    await run(process.execPath, [ENCLAVE, 'migrate'], {
      env: { PATH: process.env.PATH, ENCLAVE_CONFIG: '', ...env },
    });
    // The audit app's sealer, as doctor sees it: a session holding the sealer's lock.
    const sealer = new pg.Client({ connectionString: db.url });
    await sealer.connect();
    let code: number;
    let stdout: string;
    try {
      await sealer.query('SELECT pg_advisory_lock($1)', [SEALER_LOCK]);
      ({ code, stdout } = await doctor(env, cert));
    } finally {
      await sealer.end();
    }
    expect(stdout).toMatch(/^ok {3}audit sealer: active in session \d+/m);
    expect(stdout).toMatch(/^ok {3}migrations: all applied$/m);
    expect(stdout).toMatch(/^ok {3}upstream: .*enclave-sim/m);
    expect(stdout).toMatch(/^ok {3}replication: 127\.0\.0\.1:\d+ is the primary; standbys: none$/m);
    expect(code).toBe(0);
  });

  it('fails on a configuration mistake, naming the key', async () => {
    const envFile = join(dir, 'bad.env');
    writeFileSync(envFile, 'CHAT_PORT=abc\n');
    const { code, stdout } = await doctor({ ENCLAVE_CONFIG: envFile }, cert);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^FAIL config: config: CHAT_PORT="abc" is invalid/m);
  });
});
