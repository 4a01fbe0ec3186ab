import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { MIGRATIONS } from '@enclave/db';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

// install.sh for real, from a tarball made by `npm run release`, into a throwaway root (this
// machine has no systemd as PID 1): files, user, secrets, migrations, units checked by
// systemd-analyze, the nginx site checked by nginx -t; then idempotence, an upgrade that fails its
// health check and is rolled back, one that succeeds, scale, uninstall and purge.
const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const INSTALL = join(REPO, 'scripts/install.sh');

async function sh(cmd: string, args: string[], env: Record<string, string> = {}) {
  try {
    return await run(cmd, args, { env: { ...process.env, ...env }, timeout: 240_000 });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${e.message}\n${e.stdout}\n${e.stderr}`, {
      cause: err,
    });
  }
}

describe('scripts/install.sh into a throwaway root', () => {
  let dir: string;
  let root: string;
  let tarball: string;
  let db: TestDatabase;
  const env = () => ({ ENCLAVE_ROOT: root });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'enclave-install-'));
    root = join(dir, 'root');
    db = await createTestDatabase();
    const { stdout } = await sh(process.execPath, [
      join(REPO, 'scripts/release.mjs'),
      '--out',
      join(dir, 'release'),
      '--version',
      '9.9.1',
    ]);
    tarball = stdout.trim().split('\n').pop()!;
  }, 240_000);

  afterAll(async () => {
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('installs the release: files, user, 0600 config with secrets, migrations, units, nginx site', async () => {
    const { stdout } = await sh(
      INSTALL,
      [
        '--release',
        tarball,
        '--database-url',
        db.url,
        '--server-name',
        'enclave.test',
        '--no-start',
      ],
      env(),
    );
    expect(stdout).toContain('Enclave 9.9.1 is installed');
    expect(readlinkSync(join(root, 'opt/enclave/current'))).toBe('9.9.1');
    expect(existsSync(join(root, 'opt/enclave/9.9.1/bin/node'))).toBe(true);
    expect(readFileSync(join(root, 'etc/passwd'), 'utf8')).toMatch(/^enclave:x:\d+:\d+:/m);

    const envFile = join(root, 'etc/enclave/enclave.env');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    const conf = readFileSync(envFile, 'utf8');
    expect(Buffer.from(/^ENCLAVE_MASTER_KEY=(.*)$/m.exec(conf)![1]!, 'base64')).toHaveLength(32);
    expect(conf).toContain(`DATABASE_URL=${db.url}`);
    expect(conf).not.toMatch(/^CHAT_PORT=/m);
    const signingKey = join(root, 'var/lib/enclave/audit/signing-key.pem');
    expect(readFileSync(signingKey, 'utf8')).toContain('BEGIN PRIVATE KEY');
    expect(statSync(signingKey).mode & 0o777).toBe(0o600);

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT count(*)::int AS n FROM enclave_migrations');
      expect(rows[0].n).toBe(MIGRATIONS.length);
    } finally {
      await client.end();
    }
    // The installed code runs with the bundled Node.js and production dependencies.
    const status = await sh(
      join(root, 'opt/enclave/current/bin/enclave'),
      ['migrate', '--status'],
      {
        ENCLAVE_CONFIG: envFile,
      },
    );
    expect(status.stdout.trim()).toBe('up to date');
  }, 120_000);

  it('installs units that systemd-analyze verifies and rates 2.0 or lower', async () => {
    const units = join(root, 'etc/systemd/system');
    const files = [
      'enclave.target',
      'enclave-admin.service',
      'enclave-audit.service',
      'enclave-chat@.service',
    ];
    const verify = await sh('systemd-analyze', ['verify', ...files.map((f) => join(units, f))]);
    expect(verify.stderr).toBe('');
    for (const unit of files.filter((f) => f.endsWith('.service'))) {
      const { stdout } = await sh('systemd-analyze', [
        'security',
        '--offline=yes',
        join(units, unit),
      ]);
      const score = Number(/Overall exposure level for .*: ([\d.]+)/.exec(stdout)![1]);
      expect({ unit, score: score <= 2.0 }).toEqual({ unit, score: true });
    }
    const chat = readFileSync(join(units, 'enclave-chat@.service'), 'utf8');
    expect(chat).toContain(
      `ExecStart=${root}/opt/enclave/current/bin/node ${root}/opt/enclave/current/dist/apps/chat/src/main.js`,
    );
    expect(chat).toContain(`EnvironmentFile=${root}/etc/enclave/enclave.env`);
    expect(chat).toMatch(/^RestartPreventExitStatus=78$/m);
  });

  it('installs an nginx site that nginx -t accepts, with a self-signed certificate', async () => {
    const site = join(root, 'etc/nginx/enclave/enclave.conf');
    expect(readFileSync(join(root, 'etc/nginx/enclave/enclave-upstream.conf'), 'utf8')).toMatch(
      /server 127\.0\.0\.1:8080 .*\n.*server 127\.0\.0\.1:8083 /,
    );
    const main = join(dir, 'nginx-check.conf');
    writeFileSync(
      main,
      `pid ${dir}/nginx.pid;\nerror_log stderr;\nevents {}\nhttp { include ${site}; }\n`,
    );
    const { stderr } = await sh('nginx', ['-t', '-c', main]);
    expect(stderr).toContain('test is successful');
    expect(existsSync(join(root, 'etc/enclave/tls/enclave.crt'))).toBe(true);
  });

  it('is idempotent: a second run keeps the secrets and changes nothing that works', async () => {
    const envFile = join(root, 'etc/enclave/enclave.env');
    const before = readFileSync(envFile, 'utf8');
    await sh(INSTALL, ['--release', tarball, '--no-start'], env());
    expect(readFileSync(envFile, 'utf8')).toBe(before);
    expect(readlinkSync(join(root, 'opt/enclave/current'))).toBe('9.9.1');
  }, 120_000);

  it('rolls an upgrade back when the health check fails, and keeps a good one', async () => {
    // Version 9.9.2: the same release under another version number, installed from its directory.
    const next = join(dir, 'enclave-9.9.2');
    cpSync(join(root, 'opt/enclave/9.9.1'), next, { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(next, 'VERSION'), '9.9.2\n');
    const upgrade = join(next, 'scripts/install.sh');

    await expect(
      sh(upgrade, ['--upgrade', '--no-start'], { ...env(), ENCLAVE_HEALTHCHECK_CMD: 'false' }),
    ).rejects.toThrow(/rolled back to 9\.9\.1/);
    expect(readlinkSync(join(root, 'opt/enclave/current'))).toBe('9.9.1');

    const { stdout } = await sh(upgrade, ['--upgrade', '--no-start'], {
      ...env(),
      ENCLAVE_HEALTHCHECK_CMD: 'true',
    });
    expect(stdout).toContain('upgraded 9.9.1 → 9.9.2');
    expect(readlinkSync(join(root, 'opt/enclave/current'))).toBe('9.9.2');
    expect(existsSync(join(root, 'opt/enclave/9.9.1/VERSION'))).toBe(true);
  }, 120_000);

  it('scales the chat upstream, then uninstalls keeping data, then purges', async () => {
    await sh(join(REPO, 'scripts/scale'), ['3'], env());
    const upstream = readFileSync(join(root, 'etc/nginx/enclave/enclave-upstream.conf'), 'utf8');
    expect(
      upstream.match(/^\s+server 127\.0\.0\.1:(\d+)/gm)?.map((l) => l.trim().split(/[: ]/)[2]),
    ).toEqual(['8080', '8083', '8084']);

    await sh(INSTALL, ['--uninstall'], env());
    expect(existsSync(join(root, 'opt/enclave'))).toBe(false);
    expect(existsSync(join(root, 'etc/systemd/system/enclave-admin.service'))).toBe(false);
    expect(existsSync(join(root, 'etc/enclave/enclave.env'))).toBe(true);
    expect(existsSync(join(root, 'var/lib/enclave/audit/signing-key.pem'))).toBe(true);

    await sh(INSTALL, ['--uninstall', '--purge'], env());
    expect(existsSync(join(root, 'etc/enclave'))).toBe(false);
    expect(existsSync(join(root, 'var/lib/enclave'))).toBe(false);
    expect(readFileSync(join(root, 'etc/passwd'), 'utf8')).not.toMatch(/^enclave:/m);
  }, 60_000);
});
