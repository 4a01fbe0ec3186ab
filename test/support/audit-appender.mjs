// A separate process appending audit events the way the apps do (AuditLog.append inside the
// caller's transaction), with random delays inside the transactions and some rollbacks, so
// transactions commit out of the order of their event ids. Used by the audit concurrency and
// takeover tests and by scripts/bench-audit.mjs; runs the built code (`npm test` builds first).
// Env: DATABASE_URL, APPENDER (a name), COUNT, CONCURRENCY, ROLLBACK_RATE, MAX_DELAY_MS.
// Prints one JSON line: { appender, committed: [n…], rolledBack: [n…] }.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { AuditLog } from '../../dist/libs/audit/src/index.js';

const env = process.env;
const name = env.APPENDER ?? 'a';
const count = Number(env.COUNT ?? 100);
const concurrency = Number(env.CONCURRENCY ?? 4);
const rollbackRate = Number(env.ROLLBACK_RATE ?? 0.1);
const maxDelayMs = Number(env.MAX_DELAY_MS ?? 5);

const ds = new DataSource({ type: 'postgres', url: env.DATABASE_URL, poolSize: concurrency });
await ds.initialize();
const audit = new AuditLog();
const committed = [];
const rolledBack = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
class Rollback extends Error {}

let next = 0;
async function worker() {
  while (next < count) {
    const n = next++;
    const rollback = Math.random() < rollbackRate;
    try {
      await ds.transaction(async (m) => {
        if (maxDelayMs) await sleep(Math.random() * maxDelayMs);
        await audit.append(m, {
          actor: { type: 'system', id: null, label: `appender ${name}` },
          action: 'test.appended',
          target: { type: 'appender', id: name },
          outcome: 'success',
          payload: { appender: name, n, rollback },
        });
        if (maxDelayMs) await sleep(Math.random() * maxDelayMs);
        if (rollback) throw new Rollback();
      });
      committed.push(n);
    } catch (err) {
      if (!(err instanceof Rollback)) throw err;
      rolledBack.push(n);
    }
  }
}

await Promise.all(Array.from({ length: concurrency }, worker));
await ds.destroy();
process.stdout.write(`${JSON.stringify({ appender: name, committed, rolledBack })}\n`);
