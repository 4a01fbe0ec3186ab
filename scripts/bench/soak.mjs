#!/usr/bin/env node
// The soak: one chat process (built, production defaults) on a throwaway database in front of the
// simulator, under `--concurrency` requests in flight (half streamed) for `--minutes`; every
// `--window` seconds a line of what it holds: resident memory, V8 heap in use (sampled every 2 s:
// the window's lowest sample is close to the live heap after a collection, the highest shows the
// garbage between collections), event-loop lag p99 (from its own /metrics), requests served.
// Flat RSS and lowest heap after the first window is the pass; the last line compares them.
//   node scripts/bench/soak.mjs [--minutes 10] [--concurrency 50] [--window 60]
// Needs Postgres at ENCLAVE_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { chatBody, runCell } from './load.mjs';
import { Child, freePort, rssBytes } from './processes.mjs';
import { buildIfStale, ensureInstalled, root } from '../prepare.mjs';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '50' },
    window: { type: 'string', default: '60' },
  },
});
const minutes = Number(values.minutes);
const concurrency = Number(values.concurrency);
const windowS = Number(values.window);
const ADMIN_URL =
  process.env.ENCLAVE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const MODEL = 'enclave-sim';

ensureInstalled();
buildIfStale();
const work = mkdtempSync(join(tmpdir(), 'enclave-soak-'));
writeFileSync(join(work, 'enclave.env'), '');
const env = {
  PATH: process.env.PATH,
  NODE_ENV: 'production',
  ENCLAVE_CONFIG: join(work, 'enclave.env'),
};

async function adminQuery(url, sql, params = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

/** The chat process's own gauges, read from its /metrics. */
async function gauges(chatUrl) {
  const text = await (await fetch(`${chatUrl}/metrics`)).text();
  const value = (name) =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]);
  return {
    heapUsed: value('nodejs_heap_size_used_bytes'),
    lagP99: value('nodejs_eventloop_lag_p99_seconds'),
  };
}

const name = `enclave_soak_${randomBytes(5).toString('hex')}`;
await adminQuery(ADMIN_URL, `CREATE DATABASE ${name}`);
const dbUrl = new URL(ADMIN_URL);
dbUrl.pathname = `/${name}`;
const children = [];
try {
  const simPort = await freePort();
  const sim = new Child('llm-sim', [join(root, 'dist/apps/llm-sim/src/main.js')], {
    env: { ...env, LLM_SIM_PORT: String(simPort), LLM_SIM_MODELS: MODEL },
    logFile: join(work, 'llm-sim.log'),
  });
  children.push(sim);
  await sim.waitForPort(simPort);
  const chatPort = await freePort();
  const chat = new Child('chat', [join(root, 'dist/apps/chat/src/main.js')], {
    env: {
      ...env,
      CHAT_PORT: String(chatPort),
      DATABASE_URL: dbUrl.toString(),
      ENCLAVE_UPSTREAM_URL: `http://127.0.0.1:${simPort}/v1`,
      ENCLAVE_DATA_DIR: join(work, 'data'),
    },
    logFile: join(work, 'chat.log'),
  });
  children.push(chat);
  const chatUrl = `http://127.0.0.1:${chatPort}`;
  await chat.waitForHttp(`${chatUrl}/readyz`);

  const prefix = `ek_${randomBytes(4).toString('hex')}`;
  const key = `${prefix}_${randomBytes(32).toString('base64url')}`;
  const { rows } = await adminQuery(
    dbUrl.toString(),
    `INSERT INTO users (email, role) VALUES ('soak@example.com', 'user') RETURNING id`,
  );
  await adminQuery(
    dbUrl.toString(),
    `INSERT INTO api_keys (user_id, name, prefix, secret_hash) VALUES ($1, 'soak', $2, $3)`,
    [rows[0].id, prefix, createHash('sha256').update(key).digest()],
  );

  console.log(`soak: ${minutes} min at ${concurrency} in flight; logs in ${work}`);
  console.log(
    '| minute | requests | failed | RSS MiB | heap used MiB, lowest | heap used MiB, highest | event-loop lag p99 ms |',
  );
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const lows = [];
  const rsss = [];
  const windows = Math.max(1, Math.round((minutes * 60) / windowS));
  let requests = 0;
  let failed = 0;
  for (let w = 1; w <= windows; w++) {
    const half = Math.max(1, Math.floor(concurrency / 2));
    const heap = [];
    const sampler = setInterval(() => {
      gauges(chatUrl).then(
        (g) => heap.push(g.heapUsed),
        () => {},
      );
    }, 2_000);
    const cells = await Promise.all(
      [false, true].map((stream) =>
        runCell({
          url: `${chatUrl}/v1/chat/completions`,
          headers: { authorization: `Bearer ${key}` },
          body: chatBody(MODEL, stream),
          connections: stream ? concurrency - half : half,
          durationS: windowS,
        }),
      ),
    );
    clearInterval(sampler);
    for (const c of cells) {
      requests += c.ok;
      failed += c.failed;
    }
    const g = await gauges(chatUrl);
    heap.push(g.heapUsed);
    const mib = (b) => (b / 2 ** 20).toFixed(0);
    const rss = rssBytes(chat.pid);
    lows.push(Math.min(...heap));
    rsss.push(rss);
    console.log(
      `| ${((w * windowS) / 60).toFixed(1)} | ${requests} | ${failed} | ${mib(rss)} | ${mib(Math.min(...heap))} | ${mib(Math.max(...heap))} | ${(g.lagP99 * 1000).toFixed(1)} |`,
    );
  }
  // The first window is the warm-up (JIT, pools, caches); compare the halves of the rest.
  if (lows.length >= 3) {
    const rest = lows.slice(1);
    const mid = Math.floor(rest.length / 2);
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const mib = (b) => (b / 2 ** 20).toFixed(1);
    console.log(
      `soak: lowest heap, median of windows 2–${mid + 1}: ${mib(median(rest.slice(0, mid)))} MiB; ` +
        `of windows ${mid + 2}–${lows.length}: ${mib(median(rest.slice(mid)))} MiB; ` +
        `RSS ${mib(median(rsss.slice(1, mid + 1)))} → ${mib(median(rsss.slice(mid + 1)))} MiB`,
    );
  }
} finally {
  for (const c of children.reverse()) await c.stop();
  await adminQuery(ADMIN_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
