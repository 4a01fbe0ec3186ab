import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.js';
import {
  AdvisoryLockLoop,
  type AdvisoryLockLoopOptions,
  type LockedWork,
} from '../src/advisory-lock-loop.js';

// The loop the sealer and the SIEM forwarder share, on a real Postgres: one instance at a time
// holds the lock and works, the others stand by; failures give the lock up; stop() is prompt.

const LOCK = 424_242;

async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Instance {
  loop: AdvisoryLockLoop;
  status: { active: boolean; lastError: string | null };
  lines: { level: string; msg: string; obj: object }[];
  counts: { acquired: number; rounds: number; standby: number; finished: number };
}

describe('AdvisoryLockLoop', () => {
  let db: TestDatabase;
  const started: Instance[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterEach(async () => {
    await Promise.all(started.splice(0).map((i) => i.loop.stop()));
  });

  afterAll(async () => {
    await db.drop();
  });

  function instance(
    work: Partial<LockedWork> = {},
    opts: Partial<AdvisoryLockLoopOptions> = {},
  ): Instance {
    const status = { active: false, lastError: null as string | null };
    const lines: Instance['lines'] = [];
    const counts = { acquired: 0, rounds: 0, standby: 0, finished: 0 };
    const record = (level: string) => (obj: object, msg: string) => lines.push({ level, msg, obj });
    const loop = new AdvisoryLockLoop(
      {
        databaseUrl: db.url,
        applicationName: 'enclave-test-lock-loop',
        lock: LOCK,
        intervalMs: 20,
        log: { info: record('info'), warn: record('warn'), error: record('error') },
        messages: { connectionLost: 'lost', failed: 'failed', standingDown: 'standing down' },
        status,
        ...opts,
      },
      {
        acquired: () => void counts.acquired++,
        // Like the real work, a round uses the lock's connection (so a dead one makes it fail).
        round: async (client) => {
          await client.query('SELECT 1');
          counts.rounds++;
          return 20;
        },
        standby: async () => void counts.standby++,
        finish: async () => void counts.finished++,
        ...work,
      },
    );
    const i = { loop, status, lines, counts };
    started.push(i);
    loop.start();
    return i;
  }

  async function lockIsFree(): Promise<boolean> {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      return (await client.query('SELECT pg_try_advisory_lock($1) AS ok', [LOCK])).rows[0].ok;
    } finally {
      await client.end();
    }
  }

  it('one instance works, the other stands by; when the first stops, the second takes over', async () => {
    const a = instance();
    await until('a to work', () => a.counts.rounds > 2);
    const b = instance();
    await until('b to stand by', () => b.counts.standby > 2);
    expect(b.status.active).toBe(false);
    expect(b.counts.rounds).toBe(0);

    await a.loop.stop();
    expect(a.status.active).toBe(false);
    expect(a.counts.finished).toBe(1);
    expect(a.lines.map((l) => l.msg)).toContain('standing down');
    await until('b to take over', () => b.counts.rounds > 2);
    expect(b.status.active).toBe(true);
    expect(b.counts.acquired).toBe(1);
  });

  it('a failing round is logged, gives the lock up and is retried; a standby may take over meanwhile', async () => {
    const failing = instance({
      round: async () => {
        throw new Error('boom');
      },
    });
    await until('the round to fail', () => failing.status.lastError === 'boom');
    const healthy = instance();
    // The failing one gives the lock up each time, so the healthy one gets it and keeps it.
    await until('the healthy one to work', () => healthy.counts.rounds > 2);
    expect(failing.status.active).toBe(false);
    expect(failing.lines).toContainEqual({ level: 'error', msg: 'failed', obj: { err: 'boom' } });
    expect(failing.lines).toContainEqual({ level: 'warn', msg: 'standing down', obj: {} });
  });

  it('the lock connection killed: logged, and the instance takes the lock again', async () => {
    // Rounds far apart: the connection is idle when it is killed, as it mostly is.
    const a = instance({
      round: async (client) => {
        await client.query('SELECT 1');
        a.counts.rounds++;
        return 500;
      },
    });
    await until('a to work', () => a.counts.rounds > 0);
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'enclave-test-lock-loop'",
      );
    } finally {
      await admin.end();
    }
    await until('a to take the lock again', () => a.counts.acquired === 2 && a.status.active);
    expect(a.lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['lost', 'failed']));
  });

  it('stop() wakes a long sleep at once, and the lock is free afterwards', async () => {
    // A round that asks for ten minutes' rest: only the wake-up lets stop() return in time.
    const a = instance({ round: async () => 600_000 }, { intervalMs: 600_000 });
    await until('a to be active', () => a.status.active);
    await a.loop.stop();
    expect(a.status.active).toBe(false);
    expect(await lockIsFree()).toBe(true);
  });
});
