import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DataSource } from 'typeorm';
import { AuditLog } from '@enclave/audit';
import {
  SessionsRepository,
  SignInThrottleRepository,
  UsersRepository,
  UsersService,
  verifyPassword,
} from '@enclave/auth';
import { dataSourceOptions, runMigrations } from '@enclave/db';
import { testConfig } from './support/config.js';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';

// The built `enclave` command (`npm test` builds first) as an operator runs it, against a fresh
// database: what it prints, its exit code, and what it leaves in the tables.
const CLI = fileURLToPath(new URL('../dist/apps/cli/src/main.js', import.meta.url));
const KEY_PATTERN = /^ek_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function enclave(databaseUrl: string, args: string[], input?: string): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'silent',
      ENCLAVE_CONFIG: '',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(input ?? '');
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function openDatabase(url: string): Promise<DataSource> {
  return new DataSource(dataSourceOptions(testConfig({ DATABASE_URL: url }), 'test')).initialize();
}

describe('enclave user and key commands', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const run = (args: string[], input?: string) => enclave(db.url, args, input);

  beforeAll(async () => {
    db = await createTestDatabase();
    const migrated = await run(['migrate']);
    expect(migrated).toMatchObject({ code: 0, stderr: '' });
    ds = await openDatabase(db.url);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db.drop();
  });

  it('user add --password-stdin creates a user who can sign in with that password', async () => {
    const password = 'a long enough password';
    const res = await run(
      ['user', 'add', 'Ops@Example.com', '--role', 'auditor', '--password-stdin', '--name', 'Ops'],
      `${password}\n`,
    );
    expect(res).toEqual({ code: 0, stdout: 'created ops@example.com (auditor)\n', stderr: '' });
    const user = await new UsersRepository(ds).findByEmail('ops@example.com');
    expect(user).toMatchObject({ role: 'auditor', displayName: 'Ops' });
    expect(user!.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await verifyPassword(user!.passwordHash!, password)).toBe(true);
    expect(await verifyPassword(user!.passwordHash!, `${password}\n`)).toBe(false);
    const [event] = await ds.query(
      `SELECT actor_type AS "actorType", actor_label AS "actorLabel", payload
         FROM audit_events WHERE action = 'user.created' AND target_id = $1`,
      [user!.id],
    );
    expect(event).toMatchObject({
      actorType: 'system',
      actorLabel: 'cli',
      payload: { email: 'ops@example.com', role: 'auditor' },
    });
    expect(JSON.stringify(event)).not.toContain(password);
  });

  it('user add without --password-stdin prints a generated one-time password that works', async () => {
    const res = await run(['user', 'add', 'gen@example.com', '--role', 'user']);
    expect(res.code).toBe(0);
    const m = /^created gen@example\.com \(user\); one-time password: (\S+)\n$/.exec(res.stdout);
    expect(m).not.toBeNull();
    const user = await new UsersRepository(ds).findByEmail('gen@example.com');
    expect(await verifyPassword(user!.passwordHash!, m![1]!)).toBe(true);
  });

  it.each([
    [
      ['user', 'add', 'short@example.com', '--role', 'user', '--password-stdin'],
      'short\n',
      /at least 12 characters/,
    ],
    [
      ['user', 'add', 'ops@example.com', '--role', 'user'],
      '',
      /already a user with email ops@example\.com/,
    ],
    [['user', 'add', 'nobody', '--role', 'user'], '', /not an email address/],
    [['user', 'add', 'role@example.com', '--role', 'root'], '', /'root' is invalid/],
    [['user', 'add', 'role@example.com'], '', /required option '--role <role>'/],
  ])('refuses %j with exit 1 and an `enclave: ` message', async (args, input, message) => {
    const before = await ds.query('SELECT count(*)::int AS n FROM users');
    const res = await run(args, input);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/^enclave: /);
    expect(res.stderr).toMatch(message);
    expect(await ds.query('SELECT count(*)::int AS n FROM users')).toEqual(before);
  });

  it('key create prints the key alone, on one line, and stores models and expiry', async () => {
    const res = await run([
      'key',
      'create',
      'ops@example.com',
      '--name',
      'nightly report',
      '--models',
      'enclave-sim, sim-large',
      '--expires',
      '30d',
    ]);
    expect(res.code).toBe(0);
    expect(res.stderr).toBe('');
    const lines = res.stdout.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('');
    expect(lines[0]).toMatch(KEY_PATTERN);
    const [row] = await ds.query(
      `SELECT k.name, k.models, k.expires_at AS "expiresAt", k.revoked_at AS "revokedAt", u.email
         FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.prefix = $1`,
      [lines[0]!.slice(0, 11)],
    );
    expect(row).toMatchObject({
      name: 'nightly report',
      models: ['enclave-sim', 'sim-large'],
      revokedAt: null,
      email: 'ops@example.com',
    });
    const days = (row.expiresAt.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.99);
    expect(days).toBeLessThanOrEqual(30);
  });

  it('key create without options makes an unlimited key that never expires', async () => {
    const res = await run(['key', 'create', 'gen@example.com']);
    expect(res.code).toBe(0);
    const key = res.stdout.trim();
    expect(key).toMatch(KEY_PATTERN);
    const [row] = await ds.query(
      'SELECT name, models, expires_at AS "expiresAt" FROM api_keys WHERE prefix = $1',
      [key.slice(0, 11)],
    );
    expect(row).toEqual({ name: 'cli', models: null, expiresAt: null });
  });

  it('key revoke marks the key revoked and says so; a second revoke fails', async () => {
    const key = (await run(['key', 'create', 'ops@example.com'])).stdout.trim();
    const prefix = key.slice(0, 11);
    const res = await run(['key', 'revoke', prefix]);
    expect(res).toEqual({ code: 0, stdout: `revoked ${prefix}\n`, stderr: '' });
    const [row] = await ds.query(
      'SELECT revoked_at AS "revokedAt" FROM api_keys WHERE prefix = $1',
      [prefix],
    );
    expect(row.revokedAt).toBeInstanceOf(Date);
    const [event] = await ds.query(
      `SELECT actor_label AS "actorLabel", payload FROM audit_events WHERE action = 'api_key.revoked'
        AND payload->>'prefix' = $1`,
      [prefix],
    );
    expect(event).toMatchObject({ actorLabel: 'cli', payload: { prefix } });

    const again = await run(['key', 'revoke', prefix]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^enclave: .*already revoked/);
  });

  it.each([
    [['key', 'create', 'ghost@example.com'], 'enclave: no user with email ghost@example.com\n'],
    [
      ['key', 'create', 'ops@example.com', '--expires', 'soon'],
      /^enclave: 'soon' is not a valid expiry/,
    ],
    [['key', 'revoke', 'ek_00000000'], /^enclave: There is no API key ek_00000000/],
    [['key', 'revoke', 'nonsense'], /^enclave: 'nonsense' is not an API key prefix/],
  ])('refuses %j with exit 1, nothing on stdout and no key created', async (args, message) => {
    const before = await ds.query(
      'SELECT count(*)::int AS n FROM api_keys WHERE revoked_at IS NULL',
    );
    const res = await run(args);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    if (typeof message === 'string') expect(res.stderr).toBe(message);
    else expect(res.stderr).toMatch(message);
    expect(
      await ds.query('SELECT count(*)::int AS n FROM api_keys WHERE revoked_at IS NULL'),
    ).toEqual(before);
  });

  it('user reset-password prints a new one-time password; the old one stops working', async () => {
    const res = await run(['user', 'reset-password', 'ops@example.com']);
    expect(res.code).toBe(0);
    const m = /^reset ops@example\.com; one-time password: (\S+)\n$/.exec(res.stdout);
    expect(m).not.toBeNull();
    const user = await new UsersRepository(ds).findByEmail('ops@example.com');
    expect(await verifyPassword(user!.passwordHash!, m![1]!)).toBe(true);
    expect(await verifyPassword(user!.passwordHash!, 'a long enough password')).toBe(false);
  });
});

describe('enclave bootstrap', () => {
  it('creates exactly one admin when run several times at once on an empty database, then prints nothing', async () => {
    const db = await createTestDatabase();
    let ds: DataSource | undefined;
    try {
      expect((await enclave(db.url, ['migrate'])).code).toBe(0);
      // Four at once rather than two: more chances for them to overlap, which the lock must survive.
      const runs = await Promise.all([1, 2, 3, 4].map(() => enclave(db.url, ['bootstrap'])));
      for (const r of runs) expect(r).toMatchObject({ code: 0, stderr: '' });
      const notices = runs.map((r) => r.stdout).filter(Boolean);
      expect(notices).toHaveLength(1);
      const notice = notices[0]!;
      expect(notice.trim().split('\n').length).toBeGreaterThan(1);
      expect(notice).toContain('admin@enclave.local');
      const password = /password\s+(\S+)/.exec(notice)![1]!;

      ds = await openDatabase(db.url);
      const users = await ds.query(
        'SELECT email, role, password_hash AS "passwordHash" FROM users',
      );
      expect(users).toHaveLength(1);
      expect(users[0]).toMatchObject({ email: 'admin@enclave.local', role: 'admin' });
      expect(await verifyPassword(users[0].passwordHash, password)).toBe(true);
      const events = await ds.query(
        `SELECT actor_type AS "actorType", payload FROM audit_events WHERE action = 'user.created'`,
      );
      expect(events).toEqual([
        {
          actorType: 'system',
          payload: {
            email: 'admin@enclave.local',
            role: 'admin',
            passwordGenerated: true,
            firstAdmin: true,
          },
        },
      ]);

      const third = await enclave(db.url, ['bootstrap']);
      expect(third).toEqual({ code: 0, stdout: '', stderr: '' });
      expect(await ds.query('SELECT count(*)::int AS n FROM users')).toEqual([{ n: 1 }]);
    } finally {
      await ds?.destroy();
      await db.drop();
    }
  });

  it('holds when many calls overlap for certain (one process, one pool): still one admin', async () => {
    const db = await createTestDatabase();
    const ds = await openDatabase(db.url);
    try {
      await runMigrations(ds);
      const users = new UsersRepository(ds);
      const service = new UsersService(
        ds,
        users,
        new SessionsRepository(ds),
        new SignInThrottleRepository(ds),
        new AuditLog(),
        testConfig({ DATABASE_URL: db.url }),
      );
      // All of them pass the first (unlocked) count before any inserts.
      const results = await Promise.all(
        Array.from({ length: 6 }, () =>
          service.createFirstAdmin({ type: 'system', label: 'test' }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await users.count()).toBe(1);
    } finally {
      await ds.destroy();
      await db.drop();
    }
  });

  it('says to migrate first on a database without the schema', async () => {
    const db = await createTestDatabase();
    try {
      const res = await enclave(db.url, ['bootstrap']);
      expect(res.code).toBe(1);
      expect(res.stdout).toBe('');
      expect(res.stderr).toMatch(
        /^enclave: the database is missing migrations .*run `enclave migrate` first\n$/,
      );
    } finally {
      await db.drop();
    }
  });
});

describe('enclave group commands', () => {
  let db: TestDatabase;
  const run = (args: string[]) => enclave(db.url, args);

  beforeAll(async () => {
    db = await createTestDatabase();
    expect(await run(['migrate'])).toMatchObject({ code: 0 });
    expect(await run(['user', 'add', 'lea@example.com', '--role', 'user'])).toMatchObject({
      code: 0,
    });
  });
  afterAll(async () => {
    await db.drop();
  });

  it('creates a group, adds and removes a member, each audited as the cli', async () => {
    expect(await run(['group', 'create', 'Legal', '--description', 'Lawyers'])).toMatchObject({
      code: 0,
      stdout: 'created group Legal\n',
    });
    expect(await run(['group', 'add-member', 'legal', 'Lea@Example.com'])).toMatchObject({
      code: 0,
      stdout: 'lea@example.com is in Legal\n',
    });
    expect((await run(['group', 'members', 'Legal'])).stdout).toBe('lea@example.com\tmanual\n');
    expect((await run(['group', 'list'])).stdout).toBe('Legal\t1\tLawyers\n');
    expect(await run(['group', 'remove-member', 'Legal', 'lea@example.com'])).toMatchObject({
      code: 0,
    });
    expect((await run(['group', 'list'])).stdout).toBe('Legal\t0\tLawyers\n');

    const taken = await run(['group', 'create', 'LEGAL']);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/^enclave: A group named 'LEGAL' already exists/);
    const unknown = await run(['group', 'add-member', 'Nobody', 'lea@example.com']);
    expect(unknown).toMatchObject({
      code: 1,
      stderr: "enclave: There is no group named 'Nobody'.\n",
    });

    const ds = await openDatabase(db.url);
    try {
      const rows: { action: string; actor_label: string }[] = await ds.query(
        `SELECT action, actor_label FROM audit_events WHERE action LIKE 'admin.group.%' ORDER BY id`,
      );
      expect(rows).toEqual([
        { action: 'admin.group.created', actor_label: 'cli' },
        { action: 'admin.group.member_added', actor_label: 'cli' },
        { action: 'admin.group.member_removed', actor_label: 'cli' },
      ]);
    } finally {
      await ds.destroy();
    }
  });
});
