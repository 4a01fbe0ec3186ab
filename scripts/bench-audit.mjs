#!/usr/bin/env node
// `node scripts/bench-audit.mjs [--events=N] [--runs=R] [--no-write] [--keep]`: what the audit chain costs and how fast
// it is, on a throwaway database of the test Postgres (ENCLAVE_BENCH_POSTGRES_URL or
// ENCLAVE_TEST_POSTGRES_URL): append overhead per event (AuditLog.append vs the bare INSERT it
// replaced), seal rate, database verify rate, export rate to JSONL with the exporter's peak RSS at
// N and 4×N events (flat = bounded memory), and the offline verify rate; each of the last three
// run R times (default 3), reported as the median with the range. Writes its table into
// docs/benchmarks.md between the bench:audit markers (the rest of the file is kept). `--keep` leaves
// the databases, exports and key in place and prints each phase's command, to profile one phase
// (`node --cpu-prof scripts/bench-audit.mjs --phase=export …`).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { buildIfStale, ensureInstalled, root } from './prepare.mjs';

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : def;
};
const ADMIN_URL =
  process.env.ENCLAVE_BENCH_POSTGRES_URL ??
  process.env.ENCLAVE_TEST_POSTGRES_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres';
const MARK_START = '<!-- bench:audit:start -->';
const MARK_END = '<!-- bench:audit:end -->';
const log = (msg) => process.stderr.write(`bench-audit: ${msg}\n`);
const dist = (p) => join(root, 'dist', p);

// A child phase: runs one measured step in its own process so its peak RSS is its own.
if (opt('phase', null)) {
  await import('reflect-metadata');
  const audit = {
    ...(await import(dist('libs/db/src/index.js'))),
    ...(await import(dist('libs/audit/src/index.js'))),
    ...(await import(dist('libs/audit-chain/src/index.js'))),
  };
  const phase = opt('phase');
  const key = audit.loadSigningKey(opt('key'));
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  let count = 0;
  if (phase === 'export' || phase === 'verify-db') {
    const client = new pg.Client({ connectionString: opt('url') });
    await client.connect();
    const sql = audit.sqlOfClient(client);
    if (phase === 'export') {
      const { manifest } = await audit.writeExport({
        sql,
        dir: opt('dir'),
        name: 'bench',
        format: 'jsonl',
        filter: {},
        signingKey: key,
        createdBy: 'bench',
      });
      count = manifest.dataFile.events;
    } else {
      const v = await audit.verifyDatabaseChain(sql, key.publicKey);
      if (!v.ok) throw new Error(JSON.stringify(v.problems[0]));
      count = v.positions;
    }
    await client.end();
  } else if (phase === 'verify-file') {
    const v = await audit.verifyExport(join(opt('dir'), 'bench.manifest.json'), key.publicKey);
    if (!v.ok) throw new Error(JSON.stringify(v.problems[0]));
    count = v.events;
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  process.stdout.write(
    JSON.stringify({
      count,
      seconds,
      // The phase's own CPU (user + system): steadier than wall time on a busy machine.
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
    }),
  );
  process.exit(0);
}

ensureInstalled();
buildIfStale();
await import('reflect-metadata');
const audit = {
  ...(await import(dist('libs/db/src/index.js'))),
  ...(await import(dist('libs/audit/src/index.js'))),
  ...(await import(dist('libs/audit-chain/src/index.js'))),
};
const { dataSourceOptions, runMigrations } = await import(dist('libs/db/src/index.js'));
const { loadConfig } = await import(dist('libs/config/src/index.js'));
const { DataSource } = await import('typeorm');

const EVENTS = Number(opt('events', '200000'));
// Other work on the machine skews every figure: the table says how busy it was.
const LOAD_AT_START = loadavg()[0];
const APPENDS = Number(opt('appends', '2000'));
// Each read phase runs this many times: the machine's speed drifts (±30% here), and the median
// with the range says more than one run.
const RUNS = Number(opt('runs', '3'));
const KEEP = argv.includes('--keep');
const work = mkdtempSync(join(tmpdir(), 'enclave-bench-audit-'));
const keyPath = join(work, 'key.pem');
const key = audit.generateSigningKey(keyPath);

async function admin(sql, url = ADMIN_URL) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function freshDatabase() {
  const name = `enclave_bench_${randomBytes(5).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const ds = new DataSource(
    dataSourceOptions(
      loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: url.toString() }, '/nonexistent'),
      'bench',
    ),
  );
  await ds.initialize();
  await runMigrations(ds);
  return { name, url: url.toString(), ds };
}

const sample = (i) => ({
  actor: {
    type: 'api_key',
    id: '00000000-0000-4000-8000-000000000001',
    label: 'ana@example.com (key ek_1a2b3c4d)',
  },
  action: 'chat.completion',
  target: { type: 'message', id: `6f1c1d5e-0000-4000-8000-${String(i).padStart(12, '0')}` },
  outcome: 'success',
  meta: {
    ip: '10.1.2.3',
    userAgent: 'OpenAI/Python 1.99.0',
    requestId: randomBytes(8).toString('hex'),
  },
  payload: {
    model: 'enclave-sim',
    upstream: 'gpu1',
    stream: true,
    outcome: 'completed',
    finishReason: 'stop',
    promptTokens: 812,
    completionTokens: 211,
    latencyMs: 1432,
    ttftMs: 180,
    errorCode: null,
  },
});

/** Loads n events the way append stores them (salted payload hash, queued), in big batches. */
async function load(client, n) {
  for (let done = 0; done < n;) {
    const size = Math.min(10_000, n - done);
    const salts = [];
    const hashes = [];
    const payloads = [];
    for (let i = 0; i < size; i++) {
      const e = sample(done + i);
      const salt = randomBytes(16).toString('hex');
      salts.push(salt);
      hashes.push(audit.payloadHash(salt, e.payload));
      // As AuditLog.append stores it: the canonical text the hash was made of.
      payloads.push(audit.canonicalJson(e.payload));
    }
    const e = sample(0);
    await client.query(
      `WITH e AS (
         INSERT INTO audit_events (actor_type, actor_id, actor_label, action, target_type, target_id,
                                   outcome, source_ip, user_agent, request_id, payload, payload_salt, payload_hash)
         SELECT $1, $2::uuid, $3, $4, 'message', gen_random_uuid()::text, 'success', $5, $6, md5(random()::text),
                p::json, decode(s, 'hex'), decode(h, 'hex')
           FROM unnest($7::text[], $8::text[], $9::text[]) AS u(p, s, h)
         RETURNING id)
       INSERT INTO audit_seal_queue (event_id) SELECT id FROM e`,
      [
        e.actor.type,
        e.actor.id,
        e.actor.label,
        e.action,
        e.meta.ip,
        e.meta.userAgent,
        payloads,
        salts,
        hashes,
      ],
    );
    done += size;
  }
}

async function seal(url) {
  const sealer = new audit.AuditSealer({
    databaseUrl: url,
    signingKey: key,
    checkpointEvery: 10_000,
    checkpointSeconds: 60,
    intervalMs: 10,
    unsealedAlertSeconds: 600,
    log: { info() {}, warn() {}, error() {} },
  });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const started = performance.now();
  let n = 0;
  for (let k; (k = await sealer.sealBatch(client)) > 0;) n += k;
  const seconds = (performance.now() - started) / 1000;
  await client.end();
  return { n, seconds };
}

function phase(name, args) {
  const r = spawnSync(
    process.execPath,
    [fileURLToPath(import.meta.url), `--phase=${name}`, `--key=${keyPath}`, ...args],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const rows = [];
const rate = (n, s) => Math.round(n / s).toLocaleString('en-US');

/** A phase run RUNS times (`before` each run), slowest first. */
function phases(name, args, before = () => {}) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    before();
    runs.push(phase(name, args));
  }
  return runs.sort((a, b) => a.count / a.seconds - b.count / b.seconds);
}

/** The median run's rate, the range, and the highest peak RSS of a phase's runs. */
function summary(runs) {
  const median = runs[runs.length >> 1];
  const range =
    runs.length > 1
      ? ` (median of ${runs.length} runs: ${rate(runs[0].count, runs[0].seconds)}–${rate(runs.at(-1).count, runs.at(-1).seconds)})`
      : '';
  const rss = Math.max(...runs.map((r) => r.maxRssMb));
  return `**${rate(median.count, median.seconds)} events/s**${range}, peak RSS ${rss.toFixed(0)} MB`;
}

// 1. Append overhead: AuditLog.append (hash + queue row) vs the bare INSERT, one transaction each.
{
  const db = await freshDatabase();
  const auditLog = new audit.AuditLog();
  const bare = async (m, e) =>
    m.query(
      `INSERT INTO audit_events (actor_type, actor_id, actor_label, action, target_type, target_id, outcome,
                                 source_ip, user_agent, request_id, payload)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)`,
      [
        e.actor.type,
        e.actor.id,
        e.actor.label,
        e.action,
        e.target.type,
        e.target.id,
        e.outcome,
        e.meta.ip,
        e.meta.userAgent,
        e.meta.requestId,
        JSON.stringify(e.payload),
      ],
    );
  // Alternating rounds of each, summed: the machine's speed drifts, and a run of one after a run
  // of the other measured the drift as often as the difference.
  const ROUNDS = 5;
  const spent = { bare: 0, append: 0 };
  const time = async (kind, fn, n) => {
    const t = performance.now();
    for (let i = 0; i < n; i++) await db.ds.transaction((m) => fn(m, sample(i)));
    spent[kind] += performance.now() - t;
  };
  const append = (m, e) => auditLog.append(m, e);
  await time('bare', bare, APPENDS / ROUNDS); // warm-up
  await time('append', append, APPENDS / ROUNDS);
  [spent.bare, spent.append] = [0, 0];
  for (let r = 0; r < ROUNDS; r++) {
    await time('bare', bare, APPENDS / ROUNDS);
    await time('append', append, APPENDS / ROUNDS);
  }
  const bareUs = (spent.bare * 1000) / APPENDS;
  const appendUs = (spent.append * 1000) / APPENDS;
  const extra = appendUs - bareUs;
  log(`append: ${appendUs.toFixed(0)} µs/event vs bare insert ${bareUs.toFixed(0)} µs`);
  rows.push([
    'Append (one event per transaction, sequential)',
    `${appendUs.toFixed(0)} µs per transaction vs ${bareUs.toFixed(0)} µs for the bare INSERT: **${extra < 0 ? '−' : '+'}${Math.abs(extra).toFixed(0)} µs** per event`,
    `${APPENDS.toLocaleString('en-US')} transactions each`,
  ]);
  await db.ds.destroy();
  await admin(`DROP DATABASE ${db.name} WITH (FORCE)`);
}

// 2–5. Seal, verify, export, offline verify at N and 4×N events.
const offlineMedian = [];
for (const n of [EVENTS, EVENTS * 4]) {
  const db = await freshDatabase();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  log(`loading ${n} events`);
  await load(client, n);
  await client.end();
  // Planner statistics after each bulk step, as autovacuum keeps them on a running system (it
  // analyses a table after large changes; the bench does not wait for it): without them Postgres
  // plans for the few hundred rows it guesses, for the seal queue and then for the chain.
  await admin('ANALYZE', db.url);
  const sealed = await seal(db.url);
  log(`sealed ${sealed.n} in ${sealed.seconds.toFixed(2)} s`);
  await admin('ANALYZE', db.url);
  const verify = phases('verify-db', [`--url=${db.url}`]);
  const dir = join(work, `export-${n}`);
  const exp = phases('export', [`--url=${db.url}`, `--dir=${dir}`], () =>
    rmSync(dir, { recursive: true, force: true }),
  );
  const offline = phases('verify-file', [`--dir=${dir}`]);
  offlineMedian.push(offline[offline.length >> 1]);
  const label = `${n.toLocaleString('en-US')} events`;
  rows.push([
    'Seal (one sealer, batches of 5,000)',
    `**${rate(sealed.n, sealed.seconds)} events/s**`,
    label,
  ]);
  rows.push(['Verify in the database (`enclave audit verify --db`)', summary(verify), label]);
  rows.push(['Export to JSONL + signed manifest', summary(exp), label]);
  rows.push([
    'Offline verify of that export (`enclave audit verify <manifest>`)',
    summary(offline),
    label,
  ]);
  log(
    `verify ${JSON.stringify(verify)} export ${JSON.stringify(exp)} offline ${JSON.stringify(offline)}`,
  );
  await db.ds.destroy();
  if (KEEP) {
    const self = `node ${fileURLToPath(import.meta.url)} --key=${keyPath}`;
    log(`kept: ${self} --phase=export --url=${db.url} --dir=${dir}`);
    log(`kept: ${self} --phase=verify-file --dir=${dir}`);
    continue;
  }
  await admin(`DROP DATABASE ${db.name} WITH (FORCE)`);
  rmSync(dir, { recursive: true, force: true });
}

// The offline verify's time is a start-up (a worker thread, compiling the hot code) plus a rate
// per event; the two sizes separate them, since a rate taken over a short run hides the start-up.
{
  const [small, large] = offlineMedian;
  const perEvent = (large.seconds - small.seconds) / (large.count - small.count);
  const startUp = small.seconds - small.count * perEvent;
  rows.push([
    'Offline verify, its parts (from the two medians above)',
    `**${rate(1, perEvent)} events/s** once started; start-up ${(startUp * 1000).toFixed(0)} ms`,
    `${small.count.toLocaleString('en-US')} → ${large.count.toLocaleString('en-US')} events`,
  ]);
}

const pgVersion = await (async () => {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  const { rows: r } = await c.query('SHOW server_version');
  await c.end();
  return r[0].server_version;
})();
const table = [
  MARK_START,
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} with \`node scripts/bench-audit.mjs --events=${EVENTS}\` on ${cpus().length} × ${cpus()[0].model.trim()}, Node ${process.version}, Postgres ${pgVersion} on the same machine (load average ${LOAD_AT_START.toFixed(1)} at the start). The verify and export phases run ${RUNS} times each. Events are \`chat.completion\` rows with a metadata payload (~250 bytes).`,
  '',
  '| What | Result | Size |',
  '| ---- | ------ | ---- |',
  ...rows.map((r) => `| ${r.join(' | ')} |`),
  '',
  MARK_END,
].join('\n');
console.log(table);
if (!argv.includes('--no-write')) {
  const path = join(root, 'docs', 'benchmarks.md');
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const section = `## Audit chain\n\n${table}\n`;
  const next = current.includes(MARK_START)
    ? current.replace(new RegExp(`${MARK_START}[\\s\\S]*?${MARK_END}`), table)
    : `${current.trimEnd()}\n\n${section}`;
  writeFileSync(path, next);
  spawnSync(process.execPath, [
    join(root, 'node_modules', 'prettier', 'bin', 'prettier.cjs'),
    '--write',
    path,
  ]);
  log(`wrote ${path}`);
}
if (!KEEP) rmSync(work, { recursive: true, force: true });
