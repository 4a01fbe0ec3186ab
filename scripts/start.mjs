#!/usr/bin/env node
// `npm start`: one coherent appliance on this machine. Installs and builds when needed, then runs
// the embedded database (when DATABASE_URL is unset; restarted with backoff if it dies), the
// bundled LLM simulator (when no upstream is configured), migrations, the first administrator (on
// an empty database), and the chat, admin and audit apps. The terminal gets the URLs, the first
// admin's password and what goes wrong; each process logs to ENCLAVE_DATA_DIR/logs/<name>.log.
// Ctrl-C (or SIGTERM) stops the apps first, then what they depend on.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { buildIfStale, ensureInstalled, root } from './prepare.mjs';

// Everything this launcher and its processes create (data, keys, logs) is the owner's alone.
process.umask(0o077);

const dist = join(root, 'dist');
const READY_TIMEOUT_MS = 90_000;
/** Steps that run to completion before the apps start: their exit is not a failure. */
const ONE_SHOT = new Set(['migrate', 'bootstrap']);
/** Restarts of the embedded database wait 0.5 s, 1 s, 2 s … up to this. */
const MAX_RESTART_DELAY_MS = 30_000;
/** Up this long, the database counts as healthy again: the next failure restarts it at once. */
const HEALTHY_AFTER_MS = 60_000;

ensureInstalled();
buildIfStale();
const { loadConfig, ConfigError } = await import(join(dist, 'libs/config/src/index.js'));
let config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`enclave: ${err.message}`);
  process.exit(78);
}
const { oldEmbeddedDataNotice } = await import(join(dist, 'libs/db/src/embedded.js'));
const logDir = join(resolve(config.database.dataDir), 'logs');
mkdirSync(logDir, { recursive: true, mode: 0o700 });

/** @type {Map<string, import('node:child_process').ChildProcess>} */
const children = new Map();
let stopping = false;
/** What `enclave bootstrap` printed (the first admin's one-time password), shown with the URLs. */
let firstAdminNotice = '';

process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));
process.on('exit', () => {
  // The whole group: the embedded database's server is a child of its wrapper.
  for (const child of children.values()) killGroup(child, 'SIGKILL');
});

try {
  if (!config.database.url) {
    const notice = oldEmbeddedDataNotice(config.database.dataDir);
    if (notice) {
      console.error(`enclave: ${notice}`);
      process.exit(78);
    }
    await startEmbeddedDb();
  }
  if (config.upstream.isBundledSimulator) {
    run('llm-sim', 'apps/llm-sim/src/main.js');
    await waitForPort(config.ports.llmSim, 'llm-sim');
  }
  await runToCompletion('migrate', 'apps/cli/src/main.js', ['migrate']);
  // Prints nothing unless the database has no users; kept for the banner so it is not lost in
  // the apps' start-up logs.
  firstAdminNotice = await runToCompletion('bootstrap', 'apps/cli/src/main.js', ['bootstrap'], {
    capture: true,
  });
  const apps = [
    ['chat', config.ports.chat],
    ['admin', config.ports.admin],
    ['audit', config.ports.audit],
  ];
  for (const [name] of apps) run(name, `apps/${name}/src/main.js`);
  await Promise.all(apps.map(([name, port]) => waitForReady(name, port)));
  const base = (port) => `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  console.log(
    [
      '',
      'Enclave is running:',
      `  chat   ${base(config.ports.chat)}   (OpenAI-compatible API under /v1)`,
      `  admin  ${base(config.ports.admin)}/admin/   (the console; API under /api/admin)`,
      `  audit  ${base(config.ports.audit)}`,
      `  database  ${config.database.url ? 'DATABASE_URL' : `embedded, data in ${config.database.dataDir}`}`,
      `  upstream  ${config.upstream.isBundledSimulator ? `bundled LLM simulator ${base(config.ports.llmSim)}` : config.upstream.url}`,
      `  logs      ${logDir}`,
      'Press Ctrl-C to stop.',
      firstAdminNotice,
    ].join('\n'),
  );
} catch (err) {
  // The first admin exists now; its password must not be lost because something else failed.
  if (firstAdminNotice) console.log(firstAdminNotice);
  console.error(`enclave: ${err.message}`);
  await stopAll(1);
}

function run(name, entry, args = [], { capture = false } = {}) {
  const log = openSync(join(logDir, `${name}.log`), 'a', 0o600);
  const child = spawn(process.execPath, [join(dist, entry), ...args], {
    cwd: root,
    env: process.env,
    stdio: ['ignore', capture ? 'pipe' : log, log],
    // Own process group: a terminal's Ctrl-C reaches only this launcher, which stops the apps
    // before the database under them.
    detached: true,
  });
  closeSync(log);
  children.set(name, child);
  if (capture) {
    child.output = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => (child.output += chunk));
  }
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (stopping || ONE_SHOT.has(name) || name === 'embedded-db') return;
    console.error(
      `enclave: ${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping. Last lines of ${logPath(name)}:\n${tail(name)}`,
    );
    stopAll(1);
  });
  return child;
}

/**
 * Starts the embedded database and keeps it running: when it dies it is started again, waiting
 * longer after each failure in a row. The apps stay up meanwhile (they answer 503
 * database_unavailable) and reconnect by themselves. A first start that fails is fatal.
 */
async function startEmbeddedDb() {
  let failures = 0;
  let supervising = false;
  const launch = () => {
    const child = run('embedded-db', 'apps/cli/src/main.js', ['embedded-db']);
    const startedAt = Date.now();
    child.on('exit', (code, signal) => {
      if (stopping || !supervising) return;
      if (Date.now() - startedAt > HEALTHY_AFTER_MS) failures = 0;
      const delay = Math.min(500 * 2 ** failures++, MAX_RESTART_DELAY_MS);
      console.error(
        `enclave: the embedded database stopped (${signal ?? `code ${code}`}); restarting it in ${delay / 1000} s (log: ${logPath('embedded-db')})`,
      );
      setTimeout(() => {
        if (stopping) return;
        launch();
        waitForPort(config.database.embeddedPort, 'embedded-db').then(
          () => console.error('enclave: the embedded database is back'),
          // Did not come up (e.g. the killed server's backends still held its memory): its exit
          // has already scheduled the next attempt.
          () => undefined,
        );
      }, delay);
    });
  };
  launch();
  try {
    await waitForPort(config.database.embeddedPort, 'embedded-db');
  } catch (err) {
    throw new Error(
      `${err.message}. Last lines of ${logPath('embedded-db')}:\n${tail('embedded-db')}`,
      { cause: err },
    );
  }
  supervising = true;
}

function logPath(name) {
  return join(logDir, `${name}.log`);
}

/** The last lines a process logged, for the terminal when it failed. */
function tail(name, lines = 10) {
  try {
    return readFileSync(logPath(name), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Resolves once the step exits 0, with its stdout when captured. */
function runToCompletion(name, entry, args, options) {
  const child = run(name, entry, args, options);
  return new Promise((resolve, reject) =>
    // 'close', not 'exit': captured stdout may still be arriving when the process exits.
    child.on('close', (code) =>
      code === 0
        ? resolve(child.output ?? '')
        : reject(
            new Error(
              `${name} failed (code ${code}). Last lines of ${logPath(name)}:\n${tail(name)}`,
            ),
          ),
    ),
  );
}

async function waitForPort(port, name) {
  await waitUntil(
    name,
    () =>
      new Promise((resolve) => {
        const socket = connect(port, '127.0.0.1');
        socket.once('connect', () => (socket.destroy(), resolve(true)));
        socket.once('error', () => resolve(false));
      }),
  );
}

async function waitForReady(name, port) {
  await waitUntil(name, async () => {
    try {
      return (await fetch(`http://127.0.0.1:${port}/readyz`)).ok;
    } catch {
      return false;
    }
  });
}

async function waitUntil(name, probe) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!children.has(name)) throw new Error(`${name} stopped before it was ready`);
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} was not ready within ${READY_TIMEOUT_MS / 1000} s`);
}

/** Apps first (they finish in-flight requests), then the simulator and the database under them. */
async function stopAll(code) {
  if (stopping) {
    for (const child of children.values()) killGroup(child, 'SIGKILL');
    return;
  }
  stopping = true;
  for (const tier of [
    ['chat', 'admin', 'audit', 'migrate', 'bootstrap'],
    ['llm-sim'],
    ['embedded-db'],
  ]) {
    await Promise.all(
      tier
        .map((name) => children.get(name))
        .filter(Boolean)
        .map(
          (child) => new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGTERM'))),
        ),
    );
  }
  process.exit(code);
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}
