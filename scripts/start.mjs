#!/usr/bin/env node
// `npm start`: one coherent appliance on this machine. Installs and builds when needed, then runs
// the embedded database (when DATABASE_URL is unset), the bundled LLM simulator (when no upstream is
// configured), migrations, the first administrator (on an empty database), and the chat, admin and
// audit apps, with prefixed logs. Ctrl-C (or SIGTERM) stops the apps first, then what they depend on.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { buildIfStale, ensureInstalled, root } from './prepare.mjs';

const dist = join(root, 'dist');
const READY_TIMEOUT_MS = 90_000;
const COLORS = {
  'embedded-db': 90,
  'llm-sim': 36,
  migrate: 90,
  bootstrap: 90,
  chat: 32,
  admin: 35,
  audit: 33,
};
/** Steps that run to completion before the apps start: their exit is not a failure. */
const ONE_SHOT = new Set(['migrate', 'bootstrap']);

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

/** @type {Map<string, import('node:child_process').ChildProcess>} */
const children = new Map();
let stopping = false;
/** What `enclave bootstrap` printed (the first admin's one-time password), shown with the URLs. */
let firstAdminNotice = '';

process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));
process.on('exit', () => {
  for (const child of children.values()) child.kill('SIGKILL');
});

try {
  if (!config.database.url) {
    run('embedded-db', 'apps/cli/src/main.js', ['embedded-db']);
    await waitForPort(config.database.embeddedPort, 'embedded-db');
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
  const child = spawn(process.execPath, [join(dist, entry), ...args], {
    cwd: root,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: a terminal's Ctrl-C reaches only this launcher, which stops the apps
    // before the database under them.
    detached: true,
  });
  children.set(name, child);
  if (capture) {
    child.output = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => (child.output += chunk));
  } else {
    prefixLines(name, child.stdout, process.stdout);
  }
  prefixLines(name, child.stderr, process.stderr);
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping && !ONE_SHOT.has(name)) {
      console.error(`enclave: ${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping`);
      stopAll(1);
    }
  });
  return child;
}

/** Resolves once the step exits 0, with its stdout when captured. */
function runToCompletion(name, entry, args, options) {
  const child = run(name, entry, args, options);
  return new Promise((resolve, reject) =>
    // 'close', not 'exit': captured stdout may still be arriving when the process exits.
    child.on('close', (code) =>
      code === 0 ? resolve(child.output ?? '') : reject(new Error(`${name} failed (code ${code})`)),
    ),
  );
}

function prefixLines(name, from, to) {
  const label = process.stdout.isTTY ? `\x1b[${COLORS[name] ?? 0}m[${name}]\x1b[0m ` : `[${name}] `;
  let pending = '';
  from.setEncoding('utf8');
  from.on('data', (chunk) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop();
    for (const line of lines) to.write(label + line + '\n');
  });
  from.on('end', () => pending && to.write(label + pending + '\n'));
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
    for (const child of children.values()) child.kill('SIGKILL');
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
