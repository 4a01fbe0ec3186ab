#!/usr/bin/env node
// `npm run bench [-- options]`: what Enclave costs in front of an LLM server, next to Portkey's
// open-source gateway in the same run. Starts the LLM simulator (no added latency), Enclave chat
// (the built dist/apps/chat, real path: API-key auth, policy, messages and audit in Postgres) on a
// throwaway database, and Portkey's gateway pointed at the same simulator; drives each (and the
// simulator directly) with the same closed-loop load at concurrency 1, 50 and 200, streamed and
// not; then 1,000 concurrent slow streams, and a CPU profile of Enclave under load. Writes the
// tables into docs/benchmarks.md between its marker comments (the rest of the file is kept).
//
// Options: --duration=S (per cell, default 6)  --streams-duration=S (default 15)
//          --quiet-wait=S (wait up to S for other work to stop, default 180)
//          --no-portkey  --no-profile  --no-client-bench  --no-write  --out=FILE
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import autocannon from 'autocannon';
import { chatBody, runCell } from './bench/load.mjs';
import { Child, freePort, machineBusy, rssBytes, Sampler, sleep } from './bench/processes.mjs';
import { summariseProfile } from './bench/profile.mjs';
import { benchUpstreamClients } from './bench/upstream-client.mjs';
import { buildIfStale, ensureInstalled, root } from './prepare.mjs';

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : def;
};
const flag = (name) => argv.includes(`--${name}`);
const DURATION_S = Number(opt('duration', '6'));
const STREAMS_DURATION_S = Number(opt('streams-duration', '15'));
const WITH_PORTKEY = !flag('no-portkey');
const WITH_PROFILE = !flag('no-profile');
const WITH_CLIENT_BENCH = !flag('no-client-bench');
const OUT = opt('out', join(root, 'docs', 'benchmarks.md'));
const CONCURRENCY = [1, 50, 200];
const MODEL = 'enclave-sim';
const REPLY_TOKENS = 32;
const STREAMS = 1_000;
// Slow enough that every stream stays open for the whole measurement window.
const SLOW_SIM = { ttftMs: 500, tokensPerSec: 2, replyTokens: 20 };
const ADMIN_URL =
  process.env.ENCLAVE_BENCH_POSTGRES_URL ??
  process.env.ENCLAVE_TEST_POSTGRES_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres';
const QUIET_WAIT_S = Number(opt('quiet-wait', '180'));
const MARK_START = '<!-- bench:gateway:start -->';
const MARK_END = '<!-- bench:gateway:end -->';

ensureInstalled();
buildIfStale();

const work = mkdtempSync(join(tmpdir(), 'enclave-bench-'));
const log = (msg) => process.stdout.write(`bench: ${msg}\n`);
const children = [];
let database = null;

process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

try {
  await main();
} catch (err) {
  console.error(`bench: ${err.stack ?? err}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}

/**
 * Other work on the machine (a test run, a build) skews every figure: wait for a quiet machine
 * (up to QUIET_WAIT_S), and record how busy it was when the run started.
 */
async function waitForQuiet() {
  const deadline = Date.now() + QUIET_WAIT_S * 1000;
  for (;;) {
    const busy = await machineBusy();
    if (busy < 0.15 || Date.now() > deadline) {
      if (busy >= 0.15) log(`machine still ${pct(busy)} busy; measuring anyway`);
      return busy;
    }
    log(`machine ${pct(busy)} busy with other work; waiting for it to settle`);
    await sleep(5_000);
  }
}

async function main() {
  log(`work dir ${work} (process logs)`);
  const busyBefore = await waitForQuiet();
  database = await createDatabase();
  const pgVersion = await adminQuery(database.url, 'SHOW server_version').then(
    (r) => r.rows[0].server_version,
  );

  const simPort = await freePort();
  let sim = startSim(simPort, { ttftMs: 0, tokensPerSec: 0, replyTokens: REPLY_TOKENS });
  await sim.waitForPort(simPort);
  const simUrl = `http://127.0.0.1:${simPort}/v1`;

  const chatEnv = enclaveEnv(simUrl);
  await migrate(chatEnv);
  const chatPort = await freePort();
  const chat = startChat('chat', chatPort, chatEnv);
  await chat.waitForHttp(`http://127.0.0.1:${chatPort}/readyz`);
  const apiKey = await createApiKey(database.url);
  await configureLimits(database.url);

  let portkey = null;
  let portkeyPort = 0;
  if (WITH_PORTKEY) {
    portkeyPort = await freePort();
    portkey = start(
      'portkey',
      [
        join(root, 'node_modules/@portkey-ai/gateway/build/start-server.js'),
        `--port=${portkeyPort}`,
        '--headless',
      ],
      baseEnv(),
    );
    await portkey.waitForHttp(`http://127.0.0.1:${portkeyPort}/`);
  }

  const targets = [
    {
      name: 'simulator (direct)',
      key: 'direct',
      proc: () => sim,
      url: `${simUrl}/chat/completions`,
      headers: {},
    },
    {
      name: 'Enclave chat',
      key: 'enclave',
      proc: () => chat,
      url: `http://127.0.0.1:${chatPort}/v1/chat/completions`,
      headers: { authorization: `Bearer ${apiKey}` },
    },
  ];
  if (portkey) {
    targets.push({
      name: 'Portkey gateway',
      key: 'portkey',
      proc: () => portkey,
      url: `http://127.0.0.1:${portkeyPort}/v1/chat/completions`,
      headers: {
        authorization: 'Bearer sk-bench',
        'x-portkey-provider': 'openai',
        'x-portkey-custom-host': simUrl,
      },
    });
  }

  for (const t of targets) await sanityCheck(t);
  log(`warming up ${targets.length} targets`);
  for (const t of targets) {
    for (const stream of [false, true]) {
      await runCell({
        url: t.url,
        headers: t.headers,
        body: chatBody(MODEL, stream),
        unique: true,
        connections: 50,
        durationS: 2,
      });
    }
  }

  const startRss = Object.fromEntries(targets.map((t) => [t.key, rssBytes(t.proc().pid)]));
  const cells = [];
  for (const stream of [false, true]) {
    for (const connections of CONCURRENCY) {
      for (const t of targets) {
        const sampler = new Sampler([t.proc().pid]);
        const r = await runCell({
          url: t.url,
          headers: t.headers,
          body: chatBody(MODEL, stream),
          unique: true,
          connections,
          durationS: DURATION_S,
        });
        const usage = sampler.stop()[t.proc().pid];
        cells.push({ target: t.key, name: t.name, stream, connections, ...r, ...usage });
        log(
          `${t.key.padEnd(8)} ${stream ? 'stream' : 'plain '} c=${String(connections).padEnd(3)} ` +
            `${r.rps.toFixed(0).padStart(6)} req/s  p50 ${fmt(r.latency.p50)} p99 ${fmt(r.latency.p99)} ms` +
            (stream ? `  ttft p50 ${fmt(r.ttft.p50)} p99 ${fmt(r.ttft.p99)}` : '') +
            `  failed ${r.failed}`,
        );
        await sleep(500);
      }
    }
  }
  const stored = await storedCounts(database.url);
  let clientRows = null;
  if (WITH_CLIENT_BENCH) {
    log('upstream client alone: openai SDK vs undici Pool');
    clientRows = await benchUpstreamClients(simUrl, MODEL);
  }
  const healthz = await frameworkFloor(`http://127.0.0.1:${chatPort}/healthz`, chat.pid);

  let profile = null;
  if (WITH_PROFILE) profile = await profileChat(chatEnv, apiKey);

  // 1,000 concurrent streams: the same port, now served by a slowly paced simulator.
  await sim.stop();
  sim = startSim(simPort, SLOW_SIM);
  await sim.waitForPort(simPort);
  await raiseBackendCap(database.url, STREAMS * 2);
  const streamTargets = targets.filter((t) => t.key !== 'direct');
  for (const t of streamTargets) await sanityCheck(t, true);
  const streamRuns = [];
  for (const t of streamTargets) {
    const pid = t.proc().pid;
    const before = rssBytes(pid);
    const sampler = new Sampler([pid], 100);
    const r = await runCell({
      url: t.url,
      headers: t.headers,
      body: chatBody(MODEL, true),
      unique: true,
      connections: STREAMS,
      durationS: STREAMS_DURATION_S,
      timeoutS: 60,
    });
    const usage = sampler.stop()[pid];
    const refusals = t.key === 'enclave' ? await refusalCodes(database.url) : '';
    streamRuns.push({ target: t.key, name: t.name, before, refusals, ...r, ...usage });
    log(
      `${t.key} ${STREAMS} streams: peak RSS ${mb(usage.peakRss)} MB, peak fds ${usage.peakFds}, ` +
        `${r.ok} completed, ttft p50 ${fmt(r.ttft.p50)} ms, failed ${r.failed}`,
    );
    await sleep(2_000);
  }

  const report = renderReport({
    cells,
    startRss,
    streamRuns,
    profile,
    stored,
    healthz,
    pgVersion,
    targets,
    busyBefore,
    clientRows,
  });
  if (flag('no-write')) process.stdout.write(report);
  else {
    writeSection(OUT, report);
    log(`wrote ${OUT}`);
  }
}

function start(name, args, env = process.env) {
  const child = new Child(name, args, { env, cwd: root, logFile: join(work, `${name}.log`) });
  children.push(child);
  return child;
}

function startSim(port, { ttftMs, tokensPerSec, replyTokens }) {
  return start(
    `llm-sim-${tokensPerSec ? 'slow' : 'fast'}`,
    [join(root, 'dist/apps/llm-sim/src/main.js')],
    {
      ...baseEnv(),
      LLM_SIM_PORT: String(port),
      LLM_SIM_MODELS: MODEL,
      LLM_SIM_TTFT_MS: String(ttftMs),
      LLM_SIM_TOKENS_PER_SEC: String(tokensPerSec),
      LLM_SIM_REPLY_TOKENS: String(replyTokens),
    },
  );
}

function startChat(name, port, env, nodeArgs = []) {
  return start(name, [...nodeArgs, join(root, 'dist/apps/chat/src/main.js')], {
    ...env,
    CHAT_PORT: String(port),
  });
}

/** The environment of a process of ours: only what the bench sets, no stray env file. */
function baseEnv() {
  const emptyConfig = join(work, 'enclave.env');
  if (!existsSync(emptyConfig)) writeFileSync(emptyConfig, '');
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    ENCLAVE_CONFIG: emptyConfig,
  };
}

/** Production defaults (info logs to a file, pool of 10, migrations applied) on the bench database. */
function enclaveEnv(simUrl) {
  return {
    ...baseEnv(),
    ENCLAVE_HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    ENCLAVE_UPSTREAM_URL: simUrl,
    ENCLAVE_DATA_DIR: join(work, 'data'),
  };
}

async function migrate(env) {
  const cli = start('migrate', [join(root, 'dist/apps/cli/src/main.js'), 'migrate'], env);
  const code = await cli.exited;
  if (code !== 0) throw new Error(`migrate failed (${code}); see ${cli.logFile}`);
}

async function createDatabase() {
  const name = `enclave_bench_${randomBytes(5).toString('hex')}`;
  await adminQuery(ADMIN_URL, `CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  log(`database ${name}`);
  return { name, url: url.toString() };
}

async function adminQuery(url, sql, params = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

/** A user and an API key, as `enclave` would create them (the key is stored as its SHA-256). */
async function createApiKey(url) {
  const prefix = `ek_${randomBytes(4).toString('hex')}`;
  const key = `${prefix}_${randomBytes(32).toString('base64url')}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(
      `INSERT INTO users (email, role) VALUES ('bench@example.com', 'user') RETURNING id`,
    );
    await client.query(
      `INSERT INTO api_keys (user_id, name, prefix, secret_hash) VALUES ($1, 'bench', $2, $3)`,
      [rows[0].id, prefix, createHash('sha256').update(key).digest()],
    );
  } finally {
    await client.end();
  }
  return key;
}

/**
 * A per-user rate limit and daily and monthly token quotas, as an administrator sets them, and
 * issue 20's entitlements: the model open to one group (the bench user's), a price, and a money
 * budget for the group and a token budget for the user (all high enough never to refuse here).
 * Every request then counts against the user's and the group's counters, the hot rows of one
 * user's traffic, and its usage row carries a cost.
 */
async function configureLimits(url) {
  await adminQuery(
    url,
    `INSERT INTO quotas (scope, requests_per_minute, tokens_per_day, tokens_per_month)
     VALUES ('default_user', 2000000000, 1000000000000, 1000000000000)`,
  );
  await adminQuery(
    url,
    `WITH g AS (INSERT INTO groups (name) VALUES ('Bench') RETURNING id),
          u AS (SELECT id FROM users WHERE email = 'bench@example.com'),
          m AS (INSERT INTO group_members (group_id, user_id, via)
                SELECT g.id, u.id, 'manual' FROM g, u),
          a AS (INSERT INTO model_access (model, group_id) SELECT $1, id FROM g),
          p AS (INSERT INTO model_prices (model, input_per_million, output_per_million, currency)
                VALUES ($1, 0.5, 1.5, 'EUR')),
          b AS (INSERT INTO budgets (scope, subject_id, unit, period, "limit")
                SELECT 'group', id, 'money', 'month', 1000000000 FROM g)
     INSERT INTO budgets (scope, subject_id, unit, period, "limit")
     SELECT 'user', id, 'tokens', 'day', 1000000000000 FROM u`,
    [MODEL],
  );
  await adminQuery(url, `SELECT pg_notify('enclave_config', 'policies')`);
  await sleep(1_500);
}

/**
 * The backend seeded from config may hold 256 requests at once; an operator serving 1,000
 * streams raises it (admin API later; SQL + the live-config notification here).
 */
async function raiseBackendCap(url, cap) {
  const { rows } = await adminQuery(
    url,
    `SELECT 1 FROM information_schema.columns WHERE table_name = 'backends' AND column_name = 'max_concurrent'`,
  );
  if (rows.length === 0) return;
  // updated_at as the admin API sets it: instances rebuild a backend whose stamp changed.
  await adminQuery(
    url,
    'UPDATE backends SET max_concurrent = GREATEST(max_concurrent, $1), updated_at = now()',
    [cap],
  );
  await adminQuery(url, `SELECT pg_notify('enclave_config', 'backends')`);
  await sleep(1_500);
}

async function sanityCheck(t, stream = false) {
  const deadline = Date.now() + 30_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...t.headers },
        body: chatBody(MODEL, stream),
      });
      const text = await res.text();
      if (res.ok && (stream ? text.includes('[DONE]') : text.includes('"chat.completion"'))) return;
      last = `${res.status} ${text.slice(0, 300)}`;
    } catch (err) {
      last = String(err);
    }
    await sleep(500);
  }
  throw new Error(`${t.name} does not answer a ${stream ? 'streamed ' : ''}completion: ${last}`);
}

/** What Enclave refused or failed (from its audit trail), as `code ×count`. */
async function refusalCodes(url) {
  const { rows } = await adminQuery(
    url,
    `SELECT coalesce(payload->>'code', payload->>'errorCode') AS code, count(*)::int AS n
       FROM audit_events
      WHERE action IN ('request.failed', 'request.rejected')
         OR (action = 'chat.completion' AND payload->>'errorCode' IS NOT NULL)
      GROUP BY 1 ORDER BY 2 DESC`,
  );
  return rows.map((r) => `${r.code} ×${r.n}`).join(', ');
}

/** GET /healthz on the same chat process: Nest on Fastify + pino + security headers + metrics, no work. */
async function frameworkFloor(url, pid) {
  const out = [];
  for (const connections of [1, 200]) {
    const sampler = new Sampler([pid]);
    const result = await autocannon({ url, connections, duration: Math.min(DURATION_S, 4) });
    const { cpu } = sampler.stop()[pid];
    out.push({
      connections,
      rps: result.requests.average,
      cpuPerReq: result['2xx'] ? (cpu * 1000) / result['2xx'] : NaN,
    });
  }
  return out;
}

async function storedCounts(url) {
  // Bookkeeping of the last requests may still be committing.
  await sleep(1_000);
  const count = async (sql) => Number((await adminQuery(url, sql)).rows[0].n);
  return {
    messages: await count(`SELECT count(*) AS n FROM messages WHERE outcome = 'completed'`),
    audit: await count(`SELECT count(*) AS n FROM audit_events WHERE action = 'chat.completion'`),
    usage: await count(`SELECT count(*) AS n FROM usage_events WHERE cost > 0`),
  };
}

/** A second chat process under --cpu-prof, driven at c=200 non-streamed, then stopped. */
async function profileChat(env, apiKey) {
  const dir = join(work, 'profile');
  const port = await freePort();
  const spawnedAt = performance.now();
  const chat = startChat('chat-profiled', port, env, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  await chat.waitForHttp(`http://127.0.0.1:${port}/readyz`);
  const target = {
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    headers: { authorization: `Bearer ${apiKey}` },
  };
  await runCell({ ...target, body: chatBody(MODEL, false), connections: 50, durationS: 2 });
  const loadFrom = performance.now() - spawnedAt;
  const r = await runCell({
    ...target,
    body: chatBody(MODEL, false),
    connections: 200,
    durationS: DURATION_S,
  });
  const loadTo = performance.now() - spawnedAt;
  await chat.stop();
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
  if (files.length === 0) {
    log('no CPU profile was written');
    return null;
  }
  log(`profile ${join(dir, files[0])} (${r.rps.toFixed(0)} req/s while profiled)`);
  // The profile starts with the process (a few ms after the spawn); keep a margin at both ends.
  const window = { top: 15, fromMs: loadFrom + 250, toMs: loadTo - 250 };
  return { rps: r.rps, ...summariseProfile(join(dir, files[0]), window) };
}

async function cleanup() {
  await Promise.all(children.map((c) => c.stop().catch(() => undefined)));
  if (database) {
    const { name } = database;
    database = null;
    await adminQuery(ADMIN_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch((err) =>
      console.error(`bench: could not drop ${name}: ${err.message}`),
    );
  }
}

// ---------------------------------------------------------------- report

function fmt(ms, digits = ms < 10 ? 2 : 1) {
  return Number.isFinite(ms) ? ms.toFixed(digits) : '–';
}
function mb(bytes) {
  return (bytes / 1024 / 1024).toFixed(0);
}
function signed(ms) {
  return Number.isFinite(ms) ? `${ms >= 0 ? '+' : ''}${fmt(ms)}` : '–';
}
function pct(x) {
  return `${(x * 100).toFixed(1)}%`;
}

function renderReport({
  cells,
  startRss,
  streamRuns,
  profile,
  stored,
  healthz,
  pgVersion,
  targets,
  busyBefore,
  clientRows,
}) {
  const cell = (target, stream, c) =>
    cells.find((x) => x.target === target && x.stream === stream && x.connections === c);
  const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const cpu = cpus();
  const lines = [
    MARK_START,
    '<!-- Written by `npm run bench` (scripts/bench.mjs); edits between these markers are replaced. -->',
    '',
    '## Gateway overhead: Enclave and Portkey in front of the simulator',
    '',
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`${command}\` on ` +
      `${cpu.length} × ${cpu[0]?.model.trim() ?? 'CPU'}, Node ${process.version}, Postgres ${pgVersion}. ` +
      'Everything (load generator, gateways, simulator, Postgres) shares these cores, so compare ' +
      'the rows of one run with each other rather than with other machines. The machine was ' +
      `${pct(busyBefore)} busy with other work just before the run (other work may also have ` +
      'started during it: on a shared development machine the absolute figures move between runs).',
    '',
    `- **Load:** autocannon, closed loop: *c* connections each send the next request as soon as ` +
      `the previous answer ends, ${DURATION_S} s per cell after a warm-up. The same chat request ` +
      `(2 messages, ${REPLY_TOKENS}-token answer) goes to each target.`,
    '- **Simulator (direct):** the bundled llm-sim, no added latency — the floor.',
    '- **Enclave chat:** `dist/apps/chat/src/main.js` on a throwaway Postgres database with ' +
      'production defaults (pool of 10, info logs to a file): API-key authentication, model access, ' +
      'a per-user rate limit and daily and monthly token quotas, the model open to one group with ' +
      'a price, a money budget for the group and a token budget for the user (configured, never ' +
      "reached: every request counts against the user's and the group's counters), a " +
      'response-cache miss (each request carries its own `seed`, so it is looked up and stored), ' +
      'the upstream pool, the message stored before and after the call and its audit event, ' +
      'committed together.',
    '- **Portkey gateway:** `@portkey-ai/gateway` (`x-portkey-provider: openai`, custom host = the ' +
      'simulator), its defaults: no auth, no persistence.',
    '- **Added** = the target minus the simulator called directly, same cell. **CPU ms/req** = ' +
      "CPU time of the target's process (user + system) over the cell / requests served. **RSS** = " +
      'peak resident memory of that process during the cell.',
    `- Stored by Enclave during the cells (checked in the database): ${stored.messages} completed ` +
      `messages, ${stored.audit} \`chat.completion\` audit events, ${stored.usage} usage rows with ` +
      'a cost.',
    '',
    '### Non-streamed',
    '',
    '| Target | c | req/s | p50 ms | p99 ms | added p50 | added p99 | CPU ms/req | peak RSS MB | failed |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const c of CONCURRENCY) {
    const base = cell('direct', false, c);
    for (const t of targets) {
      const x = cell(t.key, false, c);
      const direct = t.key === 'direct';
      lines.push(
        `| ${t.name} | ${c} | ${x.rps.toFixed(0)} | ${fmt(x.latency.p50)} | ${fmt(x.latency.p99)} | ` +
          `${direct ? '' : signed(x.latency.p50 - base.latency.p50)} | ` +
          `${direct ? '' : signed(x.latency.p99 - base.latency.p99)} | ` +
          `${x.ok ? ((x.cpu * 1000) / x.ok).toFixed(3) : '–'} | ${mb(x.peakRss)} | ${x.failed} |`,
      );
    }
  }
  lines.push(
    '',
    `### Streamed (${REPLY_TOKENS} chunks per answer)`,
    '',
    'TTFT = time from sending the request to the first byte of the answer body (the first SSE event).',
    '',
    '| Target | c | streams/s | TTFT p50 | TTFT p99 | added TTFT p50 | added TTFT p99 | whole p50 | whole p99 | CPU ms/stream | peak RSS MB | failed |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const c of CONCURRENCY) {
    const base = cell('direct', true, c);
    for (const t of targets) {
      const x = cell(t.key, true, c);
      const direct = t.key === 'direct';
      lines.push(
        `| ${t.name} | ${c} | ${x.rps.toFixed(0)} | ${fmt(x.ttft.p50)} | ${fmt(x.ttft.p99)} | ` +
          `${direct ? '' : signed(x.ttft.p50 - base.ttft.p50)} | ${direct ? '' : signed(x.ttft.p99 - base.ttft.p99)} | ` +
          `${fmt(x.latency.p50)} | ${fmt(x.latency.p99)} | ` +
          `${x.ok ? ((x.cpu * 1000) / x.ok).toFixed(3) : '–'} | ${mb(x.peakRss)} | ${x.failed} |`,
      );
    }
  }
  lines.push(
    '',
    'Framework floor — `GET /healthz` on the same chat process (Nest on Fastify, security headers, pino, ' +
      'request metrics; no database, no upstream): ' +
      healthz
        .map(
          (h) =>
            `c=${h.connections}: ${h.rps.toFixed(0)} req/s, ${h.cpuPerReq.toFixed(3)} CPU ms/req`,
        )
        .join('; ') +
      '.',
  );
  lines.push(
    '',
    'Resident memory after warm-up, before the cells: ' +
      targets.map((t) => `${t.name} ${mb(startRss[t.key])} MB`).join(', ') +
      '.',
  );

  if (streamRuns.length) {
    lines.push(
      '',
      `### ${STREAMS.toLocaleString('en')} concurrent streams`,
      '',
      `${STREAMS.toLocaleString('en')} connections each holding one streamed completion for ` +
        `${STREAMS_DURATION_S} s; the simulator paces answers (first token after ${SLOW_SIM.ttftMs} ms, ` +
        `${SLOW_SIM.tokensPerSec} tokens/s, ${SLOW_SIM.replyTokens} tokens), so every stream stays open ` +
        "about 10 s. Open descriptors count the client's and the upstream connections (about 2 per stream).",
      '',
      '| Target | RSS before MB | peak RSS MB | peak open fds | streams completed | TTFT p50 ms | TTFT p99 ms | failed | refused or failed (Enclave audit trail, whole run) |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    );
    for (const r of streamRuns) {
      lines.push(
        `| ${r.name} | ${mb(r.before)} | ${mb(r.peakRss)} | ${r.peakFds} | ${r.ok} | ${fmt(r.ttft.p50)} | ${fmt(r.ttft.p99)} | ${r.failed} | ${r.refusals || '–'} |`,
      );
    }
  }

  const yes = (ok) => (ok ? 'yes' : '**no**');
  const e1 = cell('enclave', false, 1);
  const d1 = cell('direct', false, 1);
  const added50 = e1.latency.p50 - d1.latency.p50;
  const added99 = e1.latency.p99 - d1.latency.p99;
  lines.push(
    '',
    '### Goals (issue 15), this run',
    '',
    '| Goal | Measured | Met |',
    '| --- | --- | :---: |',
    `| c=1 non-streamed: added p50 ≤ 1.0 ms over the simulator direct | ${signed(added50)} ms | ${yes(added50 <= 1)} |`,
    `| c=1 non-streamed: added p99 ≤ 3 ms | ${signed(added99)} ms | ${yes(added99 <= 3)} |`,
  );
  for (const stream of [false, true]) {
    for (const c of [50, 200]) {
      const e = cell('enclave', stream, c);
      const p = cell('portkey', stream, c);
      const ratio = p ? e.rps / p.rps : NaN;
      lines.push(
        `| ${stream ? 'streamed' : 'non-streamed'} c=${c}: Enclave req/s ≥ Portkey's | ` +
          `${e.rps.toFixed(0)} vs ${p ? p.rps.toFixed(0) : '–'} (ratio ${Number.isFinite(ratio) ? ratio.toFixed(2) : '–'}) | ` +
          `${p ? yes(ratio >= 1) : '–'} |`,
      );
    }
  }
  const cpuOf = (x) => (x.ok ? (x.cpu * 1000) / x.ok : NaN);
  const cpu50 = cpuOf(cell('enclave', false, 50));
  const cpu200 = cpuOf(cell('enclave', false, 200));
  lines.push(
    `| CPU per non-streamed request (chat process, user + system) ≤ 1.0 ms | c=50: ${fmt(cpu50, 3)} ms, c=200: ${fmt(cpu200, 3)} ms | ${yes(cpu50 <= 1 && cpu200 <= 1)} |`,
  );
  const es = streamRuns.find((r) => r.target === 'enclave');
  const ps = streamRuns.find((r) => r.target === 'portkey');
  if (es) {
    const allDone = es.ok >= STREAMS && es.failed === 0 && !es.refusals;
    const ttftOk = ps ? es.ttft.p50 <= ps.ttft.p50 : false;
    lines.push(
      `| ${STREAMS.toLocaleString('en')} paced streams: all complete in the window, none refused | ${es.ok} completed, ${es.failed} failed${es.refusals ? `, ${es.refusals}` : ''} | ${yes(allDone)} |`,
      `| … TTFT p50 no worse than Portkey's | ${fmt(es.ttft.p50)} ms vs ${ps ? fmt(ps.ttft.p50) : '–'} ms | ${ps ? yes(ttftOk) : '–'} |`,
      `| … peak RSS ≤ 512 MB | ${mb(es.peakRss)} MB | ${yes(es.peakRss <= 512 * 1024 * 1024)} |`,
    );
  }

  if (clientRows) {
    lines.push(
      '',
      '### The upstream client alone (before and after issue 15)',
      '',
      "The bench process calls the simulator directly with each client: the `openai` SDK on Node's " +
        'built-in fetch (what libs/llm used) and an undici `Pool` with `eventsource-parser` (what it ' +
        "uses now). ms/call = wall time × calls in flight / calls; CPU = the bench process's own.",
      '',
      '| Client | mode | in flight | calls/s | ms/call | CPU ms/call |',
      '| --- | --- | ---: | ---: | ---: | ---: |',
      ...clientRows.map(
        (r) =>
          `| ${r.client} | ${r.stream ? 'streamed' : 'plain'} | ${r.concurrency} | ${r.callsPerSec.toFixed(0)} | ${fmt(r.msPerCall, 3)} | ${fmt(r.cpuMsPerCall, 3)} |`,
      ),
    );
  }

  if (profile) {
    lines.push(
      '',
      '### Where Enclave chat spends its CPU (c=200, non-streamed)',
      '',
      `\`node --cpu-prof\` on a second chat process driven alone for ${DURATION_S} s at c=200 ` +
        `(${profile.rps.toFixed(0)} req/s while profiled; busy ${(profile.busyMs / 1000).toFixed(1)} s, ` +
        `idle ${(profile.idleMs / 1000).toFixed(1)} s). Self time, as a share of busy time.`,
      '',
      '| Area | self time | share |',
      '| --- | ---: | ---: |',
      ...profile.areas.map((a) => `| ${a.area} | ${a.selfMs.toFixed(0)} ms | ${pct(a.share)} |`),
      '',
      'Inclusive time of some stages (a stage counts while one of its frames is on the stack; ' +
        'stages overlap):',
      '',
      '| Stage | inclusive time | share |',
      '| --- | ---: | ---: |',
      ...profile.stages.map((x) => `| ${x.stage} | ${x.selfMs.toFixed(0)} ms | ${pct(x.share)} |`),
      '',
      '| Function | where | self time | share |',
      '| --- | --- | ---: | ---: |',
      ...profile.functions.map(
        (f) => `| \`${f.name}\` | ${f.where} | ${f.selfMs.toFixed(0)} ms | ${pct(f.share)} |`,
      ),
    );
  }
  lines.push('', MARK_END, '');
  return lines.join('\n');
}

/** Replaces this script's section of the file (between the markers), keeping everything else. */
function writeSection(file, section) {
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\n';
  const start = current.indexOf(MARK_START);
  const end = current.indexOf(MARK_END);
  let next;
  if (start >= 0 && end > start) {
    next = current.slice(0, start) + section.trimEnd() + current.slice(end + MARK_END.length);
  } else {
    next = `${current.trimEnd()}\n\n${section}`;
  }
  writeFileSync(file, next.endsWith('\n') ? next : `${next}\n`);
}
