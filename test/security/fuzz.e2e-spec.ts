import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { DataSource } from 'typeorm';
import {
  ApiKeysRepository,
  generateApiKey,
  hashPassword,
  SessionsRepository,
  UsersRepository,
} from '@enclave/auth';
import { dataSourceOptions } from '@enclave/db';
import { createLlmSim, type LlmSim } from '../../apps/llm-sim/src/simulator.js';
import { SIM_DEFAULTS } from '../support/chat-harness.js';
import { testConfig } from '../support/config.js';
import { freePort } from '../support/ports.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

// A seeded, bounded fuzz of the chat and admin apps as built for production (`dist/`, real
// processes, real Postgres): wrong types, numeric edges, huge and deeply nested bodies,
// __proto__/constructor keys, invalid UTF-8, NUL, odd content types and encodings, and the query
// parameters of every list endpoint. No answer may be a 5xx or carry a stack or internal text,
// and neither process may die. ENCLAVE_FUZZ_SEED replays a run; failures name the seed.

const SEED = Number(process.env.ENCLAVE_FUZZ_SEED ?? 20261204);
const CASES = Number(process.env.ENCLAVE_FUZZ_CASES ?? 2_000);
const PARALLEL = 8;
const MAIN = (app: string) =>
  fileURLToPath(new URL(`../../dist/apps/${app}/src/main.js`, import.meta.url));

/** Internal text an answer must never show: stack frames, source paths, driver and SQL errors. */
const INTERNAL =
  /\n\s+at |node_modules|\.[jt]s:\d+|QueryFailedError|TypeError|ReferenceError|RangeError|invalid input syntax|violates .* constraint|relation "|column "|duplicate key|syntax error at/;

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}
type Rng = ReturnType<typeof prng>;

const STRINGS = [
  '',
  ' ',
  'a',
  'x'.repeat(300),
  'nul\u0000inside',
  '\u0000',
  'esc\u001b[31m',
  'line\nbreak',
  '\ud800',
  '😀'.repeat(20),
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '../../etc/passwd',
  '%00',
  '2025-02-30T10:00:00.000000Z',
  '00000000-0000-4000-8000-000000000000',
  'enclave-sim',
  'ek_00000000',
  '__proto__',
  '9'.repeat(40),
];
const NUMBERS = [0, -0, 1, -1, 0.5, 1e308, -1e308, 5e-324, 2 ** 31, 2 ** 53 + 2, -(2 ** 63), 1e19];

function value(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 3 ? 5 : 8)) {
    case 0:
      return r.pick(STRINGS);
    case 1:
      return r.pick(NUMBERS);
    case 2:
      return r.pick([true, false, null]);
    case 3:
      return r.pick(STRINGS) + r.int(1000);
    case 4:
      return r.int(3) ? r.pick(NUMBERS) : r.pick(STRINGS);
    case 5:
      return Array.from({ length: r.int(4) }, () => value(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = r.int(4); i > 0; i--) o[r.pick(FIELDS)] = value(r, depth + 1);
      return o;
    }
  }
}

/** Field names the apps read, so random bodies get past "unknown field" now and then. */
const FIELDS = [
  'email',
  'password',
  'title',
  'model',
  'messages',
  'prompt',
  'content',
  'role',
  'name',
  'models',
  'expiresIn',
  'displayName',
  'disabled',
  'reason',
  'userId',
  'from',
  'to',
  'format',
  'action',
  'actor',
  'rating',
  'comment',
  'baseUrl',
  'apiKey',
  'weight',
  'maxConcurrent',
  'timeoutMs',
  'enabled',
  'scope',
  'subjectId',
  'requestsPerMinute',
  'tokensPerDay',
  'tokensPerMonth',
  'auditContent',
  'cacheScope',
  'defaultSystemPrompt',
  'messageRetentionDays',
  'usageRetentionDays',
  'input',
  'max_tokens',
  'temperature',
  'stream',
  'seed',
  'logit_bias',
  'regenerate',
  'currentPassword',
  'newPassword',
  'stop',
  'tools',
  'n',
  'user',
  'metadata',
];

/** A JSON body that is mostly plausible with one thing wrong, or plain garbage. */
function body(r: Rng): { bytes: Buffer; contentType: string; encoding?: string } {
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  switch (r.int(12)) {
    case 0:
      return {
        bytes: Buffer.from('{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}'),
        contentType: 'application/json',
      };
    case 1: {
      let nested = '1';
      for (let i = 0, n = 1000 + r.int(20_000); i < n; i++) nested = `[${nested}]`;
      return { bytes: Buffer.from(nested), contentType: 'application/json' };
    }
    case 2:
      return {
        bytes: json({ title: 'x'.repeat(r.int(8) ? 1_000 + r.int(300_000) : 5_000_000) }),
        contentType: 'application/json',
      };
    case 3:
      return {
        bytes: Buffer.from([
          0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0xff, 0xfe, 0x22, 0x7d,
        ]),
        contentType: 'application/json',
      };
    case 4:
      return {
        bytes: json(value(r)),
        contentType: r.pick([
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/xml',
          'application/json; charset=utf-16',
          'application/json; charset=latin1',
        ]),
      };
    case 5:
      return {
        bytes: r.int(2) ? gzipSync(json(value(r))) : Buffer.from('not gzip at all'),
        contentType: 'application/json',
        encoding: r.pick(['gzip', 'deflate', 'br', 'compress', 'identity, gzip']),
      };
    case 6:
      return {
        bytes: Buffer.from(
          r.pick(['{', '{"a":', 'nul', '[1,2', '"\\ud800"', '{"a":1}{"b":2}', '\u0000']),
        ),
        contentType: 'application/json',
      };
    case 7: {
      const o: Record<string, unknown> = {};
      for (const f of FIELDS.slice(r.int(FIELDS.length))) if (r.int(4) === 0) o[f] = value(r);
      o.__proto__ = { polluted: true };
      return {
        bytes: Buffer.from(JSON.stringify(o).replace('{', '{"__proto__":{"polluted":1},')),
        contentType: 'application/json',
      };
    }
    case 8:
      return {
        bytes: json({
          model: 'enclave-sim',
          messages: [{ role: 'user', content: value(r) }],
          max_tokens: r.pick(NUMBERS),
        }),
        contentType: 'application/json',
      };
    default: {
      const o: Record<string, unknown> = {};
      for (let i = 1 + r.int(5); i > 0; i--) o[r.pick(FIELDS)] = value(r);
      return { bytes: json(o), contentType: 'application/json' };
    }
  }
}

function pathPart(r: Rng): string {
  return r.pick([
    '00000000-0000-4000-8000-000000000000',
    'not-a-uuid',
    '%00',
    '%ff%fe',
    '..%2f..%2fetc',
    'x'.repeat(2000),
    'ek_%00',
    encodeURIComponent('😀\u0000'),
    '9'.repeat(30),
  ]);
}

/** Percent-encoded; a lone surrogate becomes its (invalid) UTF-8 bytes, which is the point. */
function urlEncoded(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ed%a0%80';
  }
}

function query(r: Rng, keys: string[]): string {
  const parts: string[] = [];
  for (let i = r.int(4); i >= 0; i--) {
    const key =
      r.int(6) === 0
        ? r.pick(['x', '__proto__', 'constructor[prototype]', 'limit[]', 'q[a]'])
        : r.pick(keys);
    const raw = r.pick([
      ...STRINGS.map(urlEncoded),
      '%00',
      '%ff',
      '-1',
      '0',
      '1e3',
      '9999999999999999999',
      '1.5',
      'NaN',
      '500',
      '501',
      '99999999999',
      'e30',
      'eyJ1cGRhdGVkQXQiOiIyMDI1LTAyLTMwVDEwOjAwOjAwLjAwMDAwMFoiLCJpZCI6IjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDAwMCJ9',
      'auth.*',
      'auth..x',
      '2026-13-45',
      '2026-02-30',
      '2026-01-01T00:00:00Z',
    ]);
    parts.push(`${key}=${raw}`);
  }
  return parts.join('&');
}

interface Route {
  app: 'chat' | 'admin';
  method: string;
  path: string;
  query?: string[];
}

const ID = ':id';
const ROUTES: Route[] = [
  { app: 'chat', method: 'POST', path: '/v1/chat/completions' },
  { app: 'chat', method: 'POST', path: '/v1/completions' },
  { app: 'chat', method: 'GET', path: '/v1/models' },
  { app: 'chat', method: 'GET', path: `/v1/models/${ID}` },
  { app: 'chat', method: 'POST', path: '/v1/embeddings' },
  { app: 'chat', method: 'POST', path: '/v1/responses' },
  { app: 'chat', method: 'GET', path: `/v1/responses/${ID}` },
  { app: 'chat', method: 'DELETE', path: `/v1/responses/${ID}` },
  { app: 'chat', method: 'POST', path: '/api/conversations' },
  { app: 'chat', method: 'GET', path: '/api/conversations', query: ['limit', 'cursor', 'q'] },
  { app: 'chat', method: 'GET', path: `/api/conversations/${ID}` },
  { app: 'chat', method: 'PATCH', path: `/api/conversations/${ID}` },
  { app: 'chat', method: 'DELETE', path: `/api/conversations/${ID}` },
  { app: 'chat', method: 'POST', path: `/api/conversations/${ID}/messages` },
  { app: 'chat', method: 'PUT', path: `/api/messages/${ID}/feedback` },
  { app: 'chat', method: 'GET', path: `/api/conversations/${ID}/feedback` },
  { app: 'chat', method: 'POST', path: '/api/auth/login' },
  { app: 'chat', method: 'POST', path: '/api/auth/password' },
  { app: 'chat', method: 'GET', path: '/api/keys' },
  { app: 'chat', method: 'POST', path: '/api/keys' },
  { app: 'chat', method: 'DELETE', path: `/api/keys/${ID}` },
  {
    app: 'chat',
    method: 'GET',
    path: '/api/auth/oidc/callback',
    query: ['code', 'state', 'error'],
  },
  { app: 'admin', method: 'GET', path: '/api/admin/users' },
  { app: 'admin', method: 'POST', path: '/api/admin/users' },
  { app: 'admin', method: 'PATCH', path: `/api/admin/users/${ID}` },
  { app: 'admin', method: 'POST', path: `/api/admin/users/${ID}/keys` },
  { app: 'admin', method: 'DELETE', path: `/api/admin/keys/${ID}` },
  {
    app: 'admin',
    method: 'GET',
    path: '/api/admin/feedback',
    query: ['rating', 'model', 'from', 'to', 'limit', 'cursor'],
  },
  { app: 'admin', method: 'GET', path: '/api/admin/quotas' },
  { app: 'admin', method: 'PUT', path: '/api/admin/quotas' },
  { app: 'admin', method: 'DELETE', path: '/api/admin/quotas', query: ['scope', 'subjectId'] },
  {
    app: 'admin',
    method: 'GET',
    path: '/api/admin/usage',
    query: ['from', 'to', 'userId', 'apiKeyId', 'model'],
  },
  { app: 'admin', method: 'POST', path: '/api/admin/backends' },
  { app: 'admin', method: 'PATCH', path: `/api/admin/backends/${ID}` },
  { app: 'admin', method: 'PUT', path: `/api/admin/aliases/${ID}` },
  { app: 'admin', method: 'GET', path: '/api/admin/dashboard', query: ['minutes'] },
  { app: 'admin', method: 'PATCH', path: '/api/admin/policies' },
  {
    app: 'admin',
    method: 'GET',
    path: '/api/admin/conversations',
    query: ['q', 'userId', 'limit', 'before'],
  },
  { app: 'admin', method: 'POST', path: `/api/admin/conversations/${ID}/open` },
  {
    app: 'admin',
    method: 'GET',
    path: '/api/admin/audit/events',
    query: ['from', 'to', 'actor', 'action', 'limit', 'before'],
  },
  { app: 'admin', method: 'POST', path: '/api/admin/audit/exports' },
  { app: 'admin', method: 'GET', path: `/api/admin/audit/exports/${ID}/${ID}` },
  { app: 'admin', method: 'POST', path: '/api/admin/audit/holds' },
  { app: 'admin', method: 'POST', path: '/api/admin/audit/erasures' },
];

interface Running {
  child: ChildProcess;
  port: number;
  stderr: () => string;
}

async function startApp(app: 'chat' | 'admin', env: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN(app)], {
    env: {
      PATH: process.env.PATH,
      ENCLAVE_CONFIG: '',
      ...env,
      [`${app.toUpperCase()}_PORT`]: String(port),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err = (err + d).slice(-20_000)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${app} exited: ${err}`);
    if (Date.now() > deadline) throw new Error(`${app} did not become ready: ${err}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, port, stderr: () => err };
}

/** One raw request (bytes and headers as given, nothing fixed up); status and body text. */
function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  bytes: Buffer | null,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method, path, headers, timeout: 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(bytes ?? undefined);
  });
}

describe('fuzzing the built chat and admin apps', () => {
  let db: TestDatabase;
  let sim: LlmSim;
  const apps: Partial<Record<'chat' | 'admin', Running>> = {};
  let auth: { cookie: string; csrf: string; key: string };

  beforeAll(async () => {
    db = await createTestDatabase();
    sim = createLlmSim({ ...SIM_DEFAULTS });
    const simPort = await sim.listen(0);
    const env = {
      DATABASE_URL: db.url,
      ENCLAVE_UPSTREAM_URL: `http://127.0.0.1:${simPort}/v1`,
      LOG_LEVEL: 'fatal',
      ENCLAVE_ANONYMOUS_RATE_PER_MINUTE: '0',
      ENCLAVE_DATA_DIR: `/tmp/enclave-fuzz-${process.pid}`,
    };
    apps.chat = await startApp('chat', env);
    apps.admin = await startApp('admin', { ...env, ENCLAVE_MIGRATE_ON_START: 'false' });

    // An admin with a session and an API key, written straight to the database.
    const ds = await new DataSource(
      dataSourceOptions(testConfig({ DATABASE_URL: db.url }), 'fuzz'),
    ).initialize();
    try {
      const user = await new UsersRepository(ds).insert(ds.manager, {
        email: 'fuzz@example.com',
        role: 'admin',
        passwordHash: await hashPassword('correct horse battery staple'),
      });
      const token = 'fuzz-session-token-'.padEnd(43, 'x');
      const csrf = 'fuzz-csrf-token';
      const { createHash } = await import('node:crypto');
      await new SessionsRepository(ds).insert(ds.manager, {
        tokenHash: createHash('sha256').update(token).digest(),
        userId: user.id,
        csrfToken: csrf,
        expiresAt: new Date(Date.now() + 3_600_000),
        ip: null,
        userAgent: null,
      });
      const { key, prefix, secretHash } = generateApiKey();
      await new ApiKeysRepository(ds).insert(ds.manager, {
        userId: user.id,
        name: 'fuzz',
        prefix,
        secretHash,
        models: null,
        expiresAt: null,
      });
      auth = { cookie: `enclave_session=${token}`, csrf, key };
    } finally {
      await ds.destroy();
    }
  });
  afterAll(async () => {
    for (const app of Object.values(apps)) {
      if (app && app.child.exitCode === null) {
        app.child.kill('SIGTERM');
        await once(app.child, 'exit');
      }
    }
    await sim?.close();
    await db?.drop();
  });

  it(`answers ${CASES} malformed requests without a 5xx, internal text or a crash (seed ${SEED})`, async () => {
    // Two to three thousand requests take well under a minute on a quiet machine.
    const r = prng(SEED);
    const cases = Array.from({ length: CASES }, (_, n) => {
      const route = r.pick(ROUTES);
      let path = route.path.replace(/:id/g, () =>
        r.int(3) ? '00000000-0000-4000-8000-000000000000' : pathPart(r),
      );
      if (route.query || r.int(8) === 0) path += `?${query(r, route.query ?? ['limit', 'q'])}`;
      const who = r.int(10);
      const headers: Record<string, string> =
        who < 5
          ? { cookie: auth.cookie, 'x-csrf-token': auth.csrf }
          : who < 8
            ? { authorization: `Bearer ${auth.key}` }
            : who < 9
              ? {
                  authorization: r.pick([
                    'Bearer',
                    'Bearer ek_%00',
                    'Basic eA==',
                    `Bearer ${'a'.repeat(5000)}`,
                  ]),
                }
              : {};
      const hasBody = route.method !== 'GET' && route.method !== 'DELETE';
      const b = hasBody ? body(r) : null;
      if (b) {
        headers['content-type'] = b.contentType;
        if (b.encoding) headers['content-encoding'] = b.encoding;
      }
      return { n, app: route.app, method: route.method, path, headers, bytes: b?.bytes ?? null };
    });

    const failures: string[] = [];
    let next = 0;
    async function worker() {
      while (next < cases.length && failures.length < 20) {
        const c = cases[next++]!;
        const app = apps[c.app]!;
        try {
          const t0 = Date.now();
          const res = await send(app.port, c.method, c.path, c.headers, c.bytes);
          if (process.env.ENCLAVE_FUZZ_TRACE && Date.now() - t0 > 500) {
            console.log(
              `slow case ${c.n} ${Date.now() - t0} ms ${c.method} ${c.path.slice(0, 80)} ${c.headers['content-type']} ${c.bytes?.length}`,
            );
          }
          const internal = INTERNAL.exec(res.text);
          if (res.status >= 500 || internal) {
            failures.push(
              `case ${c.n} ${c.method} ${c.path.slice(0, 120)} (${c.headers['content-type'] ?? '-'}): ${res.status} ${internal?.[0] ?? ''} ${res.text.slice(0, 200)}`,
            );
          }
        } catch (err) {
          // A connection the server cut (a body too large, bad encoding) is an answer too;
          // the process must still be there, which is checked below.
          if (app.child.exitCode !== null)
            failures.push(`case ${c.n}: ${c.app} died: ${String(err)}`);
        }
      }
    }
    await Promise.all(Array.from({ length: PARALLEL }, worker));

    for (const [name, app] of Object.entries(apps)) {
      expect([name, app!.child.exitCode]).toEqual([name, null]);
      expect((await fetch(`http://127.0.0.1:${app!.port}/healthz`)).status).toBe(200);
    }
    expect(failures).toEqual([]); // replay with ENCLAVE_FUZZ_SEED=<seed> and the case numbers
  }, 300_000);
});
