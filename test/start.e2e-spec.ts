import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APIError } from 'openai';
import pg from 'pg';
import { embeddedDatabaseUrl } from '@enclave/db';
import { openaiClient } from './support/openai.js';
import { freePort } from './support/ports.js';

// The README's run command on a machine with nothing configured: the embedded PostgreSQL, the
// bundled LLM simulator, all three apps; then real traffic from several users through the
// official SDK, a kill -9 of the database under that traffic, and one signal to stop everything.
const START = fileURLToPath(new URL('../scripts/start.mjs', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/apps/cli/src/main.js', import.meta.url));
const USERS = 4;
const REQUESTS = 200;
/** Requests in flight at once: enough to overlap on every connection, bounded for 2 cores. */
const CONCURRENCY = 16;
const MODEL = 'enclave-sim';

interface Account {
  email: string;
  userId: string;
  key: string;
}

interface Answer {
  requestId: string;
  user: Account;
  status: number;
  code?: string | null;
  retryAfter?: string | null;
  content?: string;
}

/** Every path under `dir` (itself included) with its permission bits; symlinks left out. */
function modesUnder(dir: string): { path: string; mode: number }[] {
  const out = [{ path: dir, mode: statSync(dir).mode & 0o777 }];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...modesUnder(path));
    else if (!entry.isSymbolicLink()) out.push({ path, mode: statSync(path).mode & 0o777 });
  }
  return out;
}

/** Pids of this launch's processes running `entry` (found through /proc, by their data dir). */
function pidsOf(entry: string, dataDir: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return (
          readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(entry) &&
          readFileSync(`/proc/${p}/environ`, 'utf8').includes(`ENCLAVE_DATA_DIR=${dataDir}\0`)
        );
      } catch {
        return false;
      }
    })
    .map(Number)
    .sort();
}

async function until<T>(what: string, probe: () => Promise<T | null> | T | null, ms = 90_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('npm start on embedded defaults', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'enclave-start-'));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ENCLAVE_DATA_DIR: dataDir };
  const ports: Record<string, number> = {};
  let launcher: ChildProcess;
  let output = '';
  let db: pg.Client;
  const users: Account[] = [];

  const chatUrl = () => `http://127.0.0.1:${ports.CHAT_PORT}`;
  const postmasterPid = () =>
    Number(readFileSync(join(dataDir, 'postgres/postmaster.pid'), 'utf8').split('\n')[0]);

  async function connectDb(): Promise<pg.Client> {
    const url = embeddedDatabaseUrl(dataDir, ports.ENCLAVE_EMBEDDED_DB_PORT!);
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  function enclave(args: string[]): Promise<string> {
    return new Promise((resolve, reject) =>
      execFile(process.execPath, [CLI, ...args], { env }, (err, stdout, stderr) =>
        err ? reject(new Error(`enclave ${args.join(' ')}: ${stderr}`)) : resolve(stdout),
      ),
    );
  }

  /** One completion through the SDK, streamed or not; the outcome as the client saw it. */
  async function ask(user: Account, requestId: string, stream: boolean): Promise<Answer> {
    const client = openaiClient(`${chatUrl()}/v1`, user.key, 30_000);
    const options = { headers: { 'x-request-id': requestId } };
    const messages = [
      { role: 'user' as const, content: `Question ${requestId} from ${user.email}` },
    ];
    try {
      if (stream) {
        const chunks = await client.chat.completions.create(
          { model: MODEL, messages, stream },
          options,
        );
        let content = '';
        for await (const chunk of chunks) content += chunk.choices[0]?.delta?.content ?? '';
        return { requestId, user, status: 200, content };
      }
      const completion = await client.chat.completions.create({ model: MODEL, messages }, options);
      return {
        requestId,
        user,
        status: 200,
        content: completion.choices[0]!.message.content ?? '',
      };
    } catch (err) {
      if (!(err instanceof APIError)) throw err;
      return {
        requestId,
        user,
        status: err.status ?? 0,
        code: err.code,
        retryAfter: err.headers?.get('retry-after') ?? null,
      };
    }
  }

  beforeAll(async () => {
    for (const name of [
      'CHAT_PORT',
      'ADMIN_PORT',
      'AUDIT_PORT',
      'LLM_SIM_PORT',
      'ENCLAVE_EMBEDDED_DB_PORT',
    ])
      ports[name] = await freePort();
    for (const [key, port] of Object.entries(ports)) env[key] = String(port);
    launcher = spawn(process.execPath, [START], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    launcher.stdout!.on('data', (d) => (output += d));
    launcher.stderr!.on('data', (d) => (output += d));
    await until('the launcher to report Enclave running', () => {
      if (launcher.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
      return output.includes('Enclave is running');
    });
    db = await connectDb();
  }, 150_000);

  afterAll(async () => {
    await db?.end().catch(() => undefined);
    if (launcher && launcher.exitCode === null) {
      launcher.kill('SIGKILL');
      await once(launcher, 'exit');
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('brings chat, admin and audit to healthy and ready, showing the URLs and the first admin password', async () => {
    for (const port of [ports.CHAT_PORT, ports.ADMIN_PORT, ports.AUDIT_PORT]) {
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    }
    const models = await fetch(`http://127.0.0.1:${ports.LLM_SIM_PORT}/v1/models`);
    expect(models.status).toBe(200);
    expect(output).toContain(`data in ${dataDir}`);
    // On an empty database the first admin is created, its one-time password shown with the URLs.
    expect(output).toMatch(/Enclave is running[\s\S]*admin@enclave\.local\n\s+password\s+\S{20}\n/);
    expect(output.match(/shown only now/g)).toHaveLength(1);
    // The apps' own logs go to files, not to the terminal.
    expect(output).not.toMatch(/"level":/);
    expect(readFileSync(join(dataDir, 'logs/chat.log'), 'utf8')).toMatch(/"level":/);
  });

  it('keeps the database closed: no connection without the password, nothing open to others on disk', async () => {
    const noPassword = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${ports.ENCLAVE_EMBEDDED_DB_PORT}/postgres`,
    });
    noPassword.on('error', () => undefined);
    await expect(noPassword.connect()).rejects.toThrow(/password/);
    await noPassword.end().catch(() => undefined);

    const modes = modesUnder(dataDir);
    expect(modes.filter((m) => m.mode & 0o007)).toEqual([]);
    // Only the top folder may let the server's group pass (as root it runs as `postgres`).
    expect(modes.filter((m) => m.path !== dataDir && m.mode & 0o070)).toEqual([]);
    expect(statSync(join(dataDir, 'postgres.password')).mode & 0o777).toBe(0o600);
  });

  it(`answers ${REQUESTS} concurrent completions from ${USERS} users, each stored and audited as the user who asked`, async () => {
    for (let i = 0; i < USERS; i++) {
      const email = `user${i}@example.com`;
      await enclave(['user', 'add', email, '--role', 'user']);
      const key = (await enclave(['key', 'create', email])).trim();
      const [{ id }] = (await db.query('SELECT id FROM users WHERE email = $1', [email])).rows;
      users.push({ email, userId: id, key });
    }
    const answers: Answer[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < REQUESTS) {
          const n = next++;
          answers.push(await ask(users[n % USERS]!, `load-${n}`, n % 2 === 0));
        }
      }),
    );
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);

    const { rows: messages } = await db.query(
      `SELECT request_id, user_id, content FROM messages WHERE role = 'assistant' AND request_id LIKE 'load-%'`,
    );
    const stored = new Map(messages.map((m) => [m.request_id, m]));
    for (const a of answers) {
      expect(stored.get(a.requestId)).toEqual({
        request_id: a.requestId,
        user_id: a.user.userId,
        content: a.content,
      });
    }
    const { rows: events } = await db.query(
      `SELECT e.request_id, e.actor_id, m.user_id AS message_user
         FROM audit_events e LEFT JOIN messages m ON m.id::text = e.target_id
        WHERE e.action = 'chat.completion'`,
    );
    expect(events).toHaveLength(REQUESTS);
    for (const e of events) {
      const asked = answers.find((a) => a.requestId === e.request_id)!;
      expect({ actor: e.actor_id, message: e.message_user }).toEqual({
        actor: asked.user.userId,
        message: asked.user.userId,
      });
    }
  }, 240_000);

  it('survives a kill -9 of the database under traffic: restarted, 503 meanwhile, apps recover by themselves', async () => {
    const apps = ['chat', 'admin', 'audit'].map((a) =>
      pidsOf(`dist/apps/${a}/src/main.js`, dataDir),
    );
    expect(apps.every((p) => p.length === 1)).toBe(true);
    const killed = postmasterPid();

    const answers: Answer[] = [];
    const readiness: number[] = [];
    let stop = false;
    let n = 0;
    const traffic = Promise.all([
      ...users.map(async (user) => {
        while (!stop) answers.push(await ask(user, `kill-${n++}`, false));
      }),
      (async () => {
        while (!stop) {
          readiness.push((await fetch(`${chatUrl()}/readyz`)).status);
          await new Promise((r) => setTimeout(r, 100));
        }
      })(),
    ]);
    try {
      await until(
        'traffic before the kill',
        () => answers.filter((a) => a.status === 200).length >= 8,
      );
      process.kill(killed, 'SIGKILL');
      await until('the launcher to restart the database', () =>
        output.includes('the embedded database is back'),
      );
      const back = answers.length;
      await until(
        'answers after the restart',
        () => answers.slice(back).filter((a) => a.status === 200).length >= 8,
      );
    } finally {
      stop = true;
      await traffic;
      // The test's own connection died with the server.
      await db.end().catch(() => undefined);
      db = await connectDb();
    }

    expect(output).toMatch(/the embedded database stopped \(.*\); restarting it in/);
    expect(postmasterPid()).not.toBe(killed);
    // Same app processes throughout: they were not restarted.
    expect(
      ['chat', 'admin', 'audit'].map((a) => pidsOf(`dist/apps/${a}/src/main.js`, dataDir)),
    ).toEqual(apps);
    // The gap was real (readiness saw the database away), and every refusal in it was a 503
    // database_unavailable with Retry-After, never a 500 or a wrong 401.
    expect(readiness).toContain(503);
    expect(readiness.at(-1)).toBe(200);
    const refused = answers.filter((a) => a.status !== 200);
    // What the chat app logged for any refusal that is not a 503 database_unavailable.
    const unexpected = refused.filter((a) => a.status !== 503 || a.code !== 'database_unavailable');
    const chatLog = readFileSync(join(dataDir, 'logs/chat.log'), 'utf8').split('\n');
    expect(
      unexpected.map((a) => ({
        ...a,
        user: a.user.email,
        log: chatLog.filter((l) => l.includes(a.requestId) && l.includes('"level":50')),
      })),
    ).toEqual([]);
    for (const a of refused) expect(Number(a.retryAfter)).toBeGreaterThan(0);
    // No acknowledged request lacks its audit event. Answers finished while the database was away
    // wait in the chat app's spool (fsynced before the answer ended) and are written once it is
    // back: give that a bounded while.
    const acknowledged = answers.filter((a) => a.status === 200).map((a) => a.requestId);
    const audited = async () => {
      const { rows } = await db.query(
        `SELECT request_id FROM audit_events WHERE action = 'chat.completion' AND request_id = ANY($1)`,
        [acknowledged],
      );
      return new Set(rows.map((r) => r.request_id as string));
    };
    await until('the spool to be written', async () =>
      (await audited()).size === new Set(acknowledged).size ? true : null,
    ).catch(() => undefined);
    expect(await audited()).toEqual(new Set(acknowledged));
  }, 240_000);

  it('seals every event and `enclave audit verify --db` passes', async () => {
    await until(
      'the sealer to seal every event',
      async () =>
        (await db.query('SELECT count(*)::int AS n FROM audit_seal_queue')).rows[0].n === 0,
    );
    const verdict = JSON.parse(await enclave(['audit', 'verify', '--db', '--json']));
    expect(verdict.ok).toBe(true);
    expect(verdict.unsealed).toBe(0);
  }, 120_000);

  it('stops everything cleanly on SIGTERM', async () => {
    await db.end();
    launcher.kill('SIGTERM');
    const [code] = await once(launcher, 'exit');
    expect(code).toBe(0);
    for (const port of Object.values(ports)) {
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    }
    expect(pidsOf('postgres', dataDir)).toEqual([]);
  }, 60_000);
});
