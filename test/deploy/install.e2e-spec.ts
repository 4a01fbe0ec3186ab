import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { get } from 'node:https';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  readdirSync,
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
import { postgresOwnedDir, TempCluster } from '../support/pg-cluster.js';
import { freePort } from '../support/ports.js';

// install.sh for real, from a tarball made by `npm run release`, into a throwaway root (this
// machine has no systemd as PID 1): the release's checksums, signature, SBOM and bundled Node;
// files, user, secrets, migrations, units checked by systemd-analyze, the nginx site checked by
// nginx -t; every setting kept across a re-run with other flags and across upgrades (install.conf);
// repair by SHA256SUMS; preflight refusals; an upgrade that fails its health check and is rolled
// back (nginx included), one that succeeds after a backup; scale, uninstall, and a guarded purge.
const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const INSTALL = join(REPO, 'scripts/install.sh');
const STANDIN = join(REPO, 'test/support/systemctl-standin.sh');

async function sh(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
  timeout = 300_000,
) {
  try {
    return await run(cmd, args, {
      env: { ...process.env, ...env },
      timeout,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${e.message}\n${e.stdout}\n${e.stderr}`, {
      cause: err,
    });
  }
}

function settingsOf(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line || line.startsWith('#') || !line.includes('=')) continue;
    out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
  }
  return out;
}

/** A copy of an installed version under another version number, with its SHA256SUMS redone. */
async function makeVersion(from: string, to: string, version: string, siteMarker: string) {
  cpSync(from, to, { recursive: true, verbatimSymlinks: true });
  writeFileSync(join(to, 'VERSION'), `${version}\n`);
  const template = join(to, 'deploy/nginx/enclave.conf.template');
  writeFileSync(template, `# ${siteMarker}\n${readFileSync(template, 'utf8')}`);
  await sh('bash', [
    '-c',
    "cd \"$1\" && find . -type f ! -name SHA256SUMS -printf '%P\\n' | sort | xargs -d '\\n' sha256sum > SHA256SUMS",
    'resum',
    to,
  ]);
}

describe('scripts/install.sh into a throwaway root', () => {
  let dir: string;
  let root: string;
  let tarball: string;
  // A Postgres of the test's own, from the machine's binaries: the upgrade's pg_dump backup needs a
  // server of the same major version as the machine's pg_dump (the suite's shared server may be
  // newer).
  let cluster: TempCluster;
  // The database's owner (migrations) and a superuser's URL to it (the app roles, once).
  let db: { url: string; superuser: string };
  let databaseUrl: string;
  const env = () => ({ ENCLAVE_ROOT: root });
  const etc = (f: string) => join(root, 'etc/enclave', f);
  const site = (f: string) => join(root, 'etc/nginx/enclave', f);

  // Every setting install.conf keeps, as given at the first install.
  let first: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'enclave-install-'));
    root = join(dir, 'root');
    chmodSync(dir, 0o755); // the postgres user reaches its directory through it
    const pgRoot = postgresOwnedDir(join(dir, 'pg'));
    const port = await freePort();
    cluster = await TempCluster.init(join(pgRoot, 'data'), postgresOwnedDir(join(pgRoot, 'sock')), port); // prettier-ignore
    await cluster.start();
    await cluster.psql(`ALTER USER postgres PASSWORD 'install-test'`);
    await cluster.psql(`CREATE ROLE enclave LOGIN PASSWORD 'owner-test'`);
    await cluster.psql('CREATE DATABASE enclave OWNER enclave');
    db = {
      url: `postgres://enclave:owner-test@127.0.0.1:${port}/enclave`,
      superuser: `postgres://postgres:install-test@127.0.0.1:${port}/enclave`,
    };
    // The values sed used to corrupt: '&' (sed's "the match") and '|' (its delimiter there).
    const rootCert = join(dir, 'root&ca|1.crt');
    await sh('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
      '-nodes', '-days', '2', '-subj', '/CN=ca', '-keyout', join(dir, 'ca.key'), '-out', rootCert]); // prettier-ignore
    databaseUrl = `${db.url}?application_name=enclave&sslmode=disable&sslrootcert=${encodeURIComponent(rootCert)}`;
    await sh('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', join(dir, 'release.key')]);
    const { stdout } = await sh(process.execPath, [
      join(REPO, 'scripts/release.mjs'),
      '--out',
      join(dir, 'release'),
      '--version',
      '9.9.1',
      '--sign-key',
      join(dir, 'release.key'),
    ], {}, 900_000); // prettier-ignore
    tarball = stdout.trim().split('\n').pop()!;
    first = {
      DATABASE_URL: databaseUrl,
      ENCLAVE_HOST: '127.0.0.2',
      CHAT_INSTANCES: '3',
      SERVER_NAME: 'enclave.test',
      ADMIN_NETWORKS: '10.0.0.0/8,127.0.0.1/32',
      REAL_IP_FROM: '192.0.2.0/24',
      REAL_IP_HEADER: 'X-Real-IP',
      TLS_PROFILE: 'intermediate',
    };
  }, 1_000_000);

  afterAll(async () => {
    if (root) await run(STANDIN, ['stop-all'], { env: { ...process.env, ENCLAVE_ROOT: root } }).catch(() => undefined); // prettier-ignore
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('makes a release named for its architecture, with checksums, a signature and an SBOM', async () => {
    const out = join(dir, 'release');
    expect(tarball).toBe(join(out, 'enclave-9.9.1-linux-x64.tar.gz'));
    const check = await run('sha256sum', ['--check', '--strict', 'SHA256SUMS'], { cwd: out });
    expect(check.stdout).toContain('enclave-9.9.1-linux-x64.tar.gz: OK');
    expect(check.stdout).toContain('enclave-9.9.1-linux-x64.cdx.json: OK');
    await sh('openssl', ['pkey', '-in', join(dir, 'release.key'), '-pubout', '-out', join(dir, 'release.pub')]); // prettier-ignore
    const verified = await sh('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', join(dir, 'release.pub'),
      '-rawin', '-in', join(out, 'SHA256SUMS'), '-sigfile', join(out, 'SHA256SUMS.sig')]); // prettier-ignore
    expect(verified.stdout).toContain('Signature Verified Successfully');

    const sbom = JSON.parse(readFileSync(join(out, 'enclave-9.9.1-linux-x64.cdx.json'), 'utf8'));
    expect(sbom.bomFormat).toBe('CycloneDX');
    const names = (sbom.components as { name: string }[]).map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['pg', 'typeorm']));
    expect(names).not.toContain('jest');
  });

  it('refuses in preflight, with the reason, and changes nothing', async () => {
    await expect(
      sh(INSTALL, ['--release', tarball, '--database-url', databaseUrl, '--no-start'], {
        ...env(),
        ENCLAVE_MIN_FREE_MB: '999999999',
      }),
    ).rejects.toThrow(/preflight: \d+ MiB free under .*, at least 999999999 MiB needed/);
    await expect(
      sh(INSTALL, ['--release', tarball, '--database-url', 'postgres://nobody@127.0.0.1:1/x', '--no-start'], env()), // prettier-ignore
    ).rejects.toThrow(/preflight: cannot reach PostgreSQL at --database-url/);
    expect(existsSync(etc('install.conf'))).toBe(false);
  }, 120_000);

  it('installs the release: files, Node 24, user, 0600 config with secrets, migrations, units, nginx', async () => {
    // Debian's nginx.conf, which the installer sizes for thousands of streams.
    mkdirSync(join(root, 'etc/nginx'), { recursive: true });
    cpSync('/etc/nginx/nginx.conf', join(root, 'etc/nginx/nginx.conf'));
    const { stdout } = await sh(
      INSTALL,
      [
        '--release', tarball, '--database-url', databaseUrl, '--host', '127.0.0.2',
        '--chat-instances', '3', '--server-name', 'enclave.test',
        '--admin-networks', '10.0.0.0/8,127.0.0.1/32', '--real-ip-from', '192.0.2.0/24',
        '--real-ip-header', 'X-Real-IP', '--tls-profile', 'intermediate', '--no-start',
        '--db-admin-url', db.superuser,
      ], // prettier-ignore
      env(),
    );
    expect(stdout).toContain('Enclave 9.9.1 is installed');
    expect(readlinkSync(join(root, 'opt/enclave/current'))).toBe('9.9.1');
    const node = await sh(join(root, 'opt/enclave/9.9.1/bin/node'), ['--version']);
    expect(node.stdout).toMatch(/^v24\./);
    expect(readFileSync(join(root, 'etc/passwd'), 'utf8')).toMatch(/^enclave:x:\d+:\d+:/m);

    expect(statSync(etc('install.conf')).mode & 0o777).toBe(0o600);
    expect(settingsOf(etc('install.conf'))).toMatchObject(first);
    const envFile = etc('enclave.env');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    const conf = settingsOf(envFile);
    expect(Buffer.from(conf.ENCLAVE_MASTER_KEY!, 'base64')).toHaveLength(32);
    expect(conf.DATABASE_URL).toBe(databaseUrl);
    expect(conf.ENCLAVE_HOST).toBe('127.0.0.2');
    expect(conf).not.toHaveProperty('CHAT_PORT');
    const signingKey = etc('audit/signing-key.pem');
    expect(readFileSync(signingKey, 'utf8')).toContain('BEGIN PRIVATE KEY');
    expect(statSync(signingKey)).toMatchObject({ uid: 0, gid: 0 });
    expect(statSync(signingKey).mode & 0o777).toBe(0o600);

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT count(*)::int AS n FROM enclave_migrations');
      expect(rows[0].n).toBe(MIGRATIONS.length);
    } finally {
      await client.end();
    }
    // The installed code runs with the bundled Node.js, production dependencies and the URL with '&'.
    const status = await sh(
      join(root, 'opt/enclave/current/bin/enclave'),
      ['migrate', '--status'],
      { ENCLAVE_CONFIG: envFile },
    );
    expect(status.stdout.trim()).toBe('up to date');
  }, 400_000);

  it("keeps the signing key from chat's unit user, and audit records from chat's database role", async () => {
    const units = join(root, 'etc/systemd/system');
    const unit = (name: string) => readFileSync(join(units, name), 'utf8');
    const userOf = (name: string) => /^User=(\S+)$/m.exec(unit(name))![1]!;
    const chatUser = userOf('enclave-chat@.service');
    expect(userOf('enclave-admin.service')).toBe(chatUser);
    expect(userOf('enclave-audit.service')).not.toBe(chatUser);
    expect(unit('enclave-audit.service')).toContain(
      `LoadCredential=audit-signing-key:${etc('audit/signing-key.pem')}`,
    );
    // As chat's user: the public keyring beside the key reads (the path is open), the key does not.
    const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8').split('\n');
    const [, , uid, gid] = passwd.find((l) => l.startsWith(`${chatUser}:`))!.split(':');
    const asChat = (file: string) =>
      run('setpriv', ['--reuid', uid!, '--regid', gid!, '--clear-groups', 'cat', file]);
    expect((await asChat(etc('audit/keyring.json'))).stdout).toContain('publicKey');
    await expect(asChat(etc('audit/signing-key.pem'))).rejects.toThrow(/Permission denied/);

    // Each app's own role, in its own env file; chat's may not change an audit record.
    const urls = Object.fromEntries(
      ['chat', 'admin', 'audit'].map((app) => [app, settingsOf(etc(`${app}.env`)).DATABASE_URL]),
    );
    expect(urls).toEqual({
      chat: expect.stringMatching(/^postgres:\/\/enclave_chat:[^@]+@127\.0\.0\.1:/),
      admin: expect.stringMatching(/^postgres:\/\/enclave_admin:/),
      audit: expect.stringMatching(/^postgres:\/\/enclave_audit:/),
    });
    expect(urls.chat).toContain('&sslmode=disable&sslrootcert=');
    for (const app of ['chat', 'admin', 'audit']) {
      expect(statSync(etc(`${app}.env`)).mode & 0o777).toBe(0o600);
    }
    const chat = new pg.Client({ connectionString: urls.chat });
    await chat.connect();
    try {
      expect((await chat.query('SELECT current_user AS u')).rows[0].u).toBe('enclave_chat');
      // The admin dashboard reads the standbys' details: the superuser let enclave_admin.
      const { rows } = await chat.query(
        "SELECT pg_has_role('enclave_admin', 'pg_read_all_stats', 'member') AS admin, pg_has_role('enclave_chat', 'pg_read_all_stats', 'member') AS chat",
      );
      expect(rows[0]).toEqual({ admin: true, chat: false });
      for (const sql of [
        'UPDATE audit_events SET actor_label = NULL',
        'DELETE FROM audit_events',
        'TRUNCATE audit_events',
      ]) {
        await expect(chat.query(sql)).rejects.toMatchObject({
          code: '42501',
          message: expect.stringMatching(/permission denied/),
        });
      }
    } finally {
      await chat.end();
    }
  });

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
    // Ready and watchdog through systemd-notify (libs/server/src/systemd-notify.ts).
    expect(chat).toMatch(/^Type=notify\nNotifyAccess=all\nWatchdogSec=30s$/m);
  });

  it('renders the nginx site from the settings, which nginx -t accepts', async () => {
    expect(readFileSync(site('enclave-upstream.conf'), 'utf8')).toMatch(
      /server 127\.0\.0\.2:8080 .*\n.*server 127\.0\.0\.2:8083 .*\n.*server 127\.0\.0\.2:8084 /,
    );
    const text = readFileSync(site('enclave.conf'), 'utf8');
    expect(text).toContain('server_name enclave.test;');
    expect(text).toContain('set_real_ip_from 192.0.2.0/24;');
    expect(text).toContain('real_ip_header X-Real-IP;');
    expect(text).toContain('10.0.0.0/8 1;');
    expect(text).toContain('ssl_protocols TLSv1.2 TLSv1.3;');
    const nginxConf = readFileSync(join(root, 'etc/nginx/nginx.conf'), 'utf8');
    expect(nginxConf).toContain(`include ${site('enclave-events.conf')};`);
    expect(nginxConf).toContain(`include ${site('enclave-main.conf')};`);
    expect(readFileSync(site('enclave-events.conf'), 'utf8')).toMatch(
      /^worker_connections 8192;$/m,
    );
    const main = join(dir, 'nginx-check.conf');
    writeFileSync(
      main,
      `pid ${dir}/nginx.pid;\nerror_log stderr;\nevents {}\nhttp { include ${site('enclave.conf')}; }\n`,
    );
    const { stderr } = await sh('nginx', ['-t', '-c', main]);
    expect(stderr).toContain('test is successful');
    expect(existsSync(etc('tls/enclave.crt'))).toBe(true);
  });

  it('keeps every setting on a re-run with another flag, and repairs a changed file', async () => {
    const before = readFileSync(etc('enclave.env'), 'utf8');
    const installed = join(root, 'opt/enclave/9.9.1/dist/apps/chat/src/main.js');
    const original = readFileSync(installed, 'utf8');
    writeFileSync(installed, 'process.exit(1); // tampered\n');

    const { stdout } = await sh(
      INSTALL,
      ['--release', tarball, '--server-name', 'other.test', '--no-start'],
      env(),
    );
    expect(stdout).toContain('differ from SHA256SUMS: repairing');
    expect(readFileSync(installed, 'utf8')).toBe(original);
    expect(settingsOf(etc('install.conf'))).toMatchObject({ ...first, SERVER_NAME: 'other.test' });
    expect(readFileSync(etc('enclave.env'), 'utf8')).toBe(before);
    expect(readFileSync(site('enclave.conf'), 'utf8')).toContain('server_name other.test;');
    expect(readFileSync(site('enclave-upstream.conf'), 'utf8')).toContain('127.0.0.2:8084');
    expect(readlinkSync(join(root, 'opt/enclave/current'))).toBe('9.9.1');
    first.SERVER_NAME = 'other.test';
  }, 400_000);

  it('rolls a failed upgrade back (code and nginx), and keeps a good one after a backup', async () => {
    const next = join(dir, 'enclave-9.9.2');
    await makeVersion(join(root, 'opt/enclave/9.9.1'), next, '9.9.2', 'site of 9.9.2');
    const upgrade = join(next, 'scripts/install.sh');

    await expect(
      sh(upgrade, ['--upgrade', '--no-start'], { ...env(), ENCLAVE_HEALTHCHECK_CMD: 'false' }),
    ).rejects.toThrow(/rolled back to 9\.9\.1/);
    expect(readlinkSync(join(root, 'opt/enclave/current'))).toBe('9.9.1');
    expect(readFileSync(site('enclave.conf'), 'utf8')).not.toContain('site of 9.9.2');
    expect(settingsOf(etc('install.conf'))).toMatchObject(first);

    const { stdout } = await sh(upgrade, ['--upgrade', '--no-start'], {
      ...env(),
      ENCLAVE_HEALTHCHECK_CMD: 'true',
    });
    expect(stdout).toContain('upgraded 9.9.1 → 9.9.2');
    expect(readlinkSync(join(root, 'opt/enclave/current'))).toBe('9.9.2');
    expect(readFileSync(site('enclave.conf'), 'utf8')).toContain('site of 9.9.2');
    expect(existsSync(join(root, 'opt/enclave/9.9.1/VERSION'))).toBe(true);
    expect(settingsOf(etc('install.conf'))).toMatchObject(first);
    expect(settingsOf(etc('enclave.env')).DATABASE_URL).toBe(databaseUrl);

    // Each upgrade attempt took a pg_dump first; pg_restore can read it.
    const backups = readdirSync(join(root, 'var/lib/enclave/backups'));
    expect(backups.length).toBe(2);
    const dump = join(root, 'var/lib/enclave/backups', backups[0]!);
    expect(statSync(dump).mode & 0o777).toBe(0o600);
    const { stdout: toc } = await sh('pg_restore', ['--list', dump]);
    expect(toc).toContain('TABLE public audit_events');
  }, 400_000);

  it('scales the chat upstream and keeps the count for later runs', async () => {
    await sh(join(REPO, 'scripts/scale'), ['2'], env());
    const upstream = readFileSync(site('enclave-upstream.conf'), 'utf8');
    expect(upstream.match(/^\s+server (\S+)/gm)?.map((l) => l.trim().split(' ')[1])).toEqual([
      '127.0.0.2:8080',
      '127.0.0.2:8083',
    ]);
    expect(settingsOf(etc('install.conf')).CHAT_INSTANCES).toBe('2');
    first.CHAT_INSTANCES = '2';
  });

  it('upgrades under traffic through nginx, one chat instance at a time, failing no request', async () => {
    // The installed units run as processes (systemctl's stand-in) behind the machine's nginx with
    // the installed site (its listen ports moved to free ones); traffic goes to the chat instances
    // all through the upgrade, which takes each out of the upstream, restarts it, waits for it.
    const web = join(dir, 'nginx');
    mkdirSync(web, { recursive: true });
    const [https, http] = [await freePort(), await freePort()];
    const siteCopy = readFileSync(site('enclave.conf'), 'utf8')
      .replace(/listen 443 ssl/g, `listen 127.0.0.1:${https} ssl`)
      .replace(/listen 80;/g, `listen 127.0.0.1:${http};`)
      .replace(/access_log \S+ enclave_json;/g, `access_log ${web}/access.log enclave_json;`);
    writeFileSync(join(web, 'site.conf'), siteCopy);
    const conf = join(web, 'nginx.conf');
    writeFileSync(
      conf,
      `daemon off;\npid ${web}/nginx.pid;\nerror_log ${web}/error.log warn;\nworker_processes 2;\n` +
        `events { worker_connections 1024; }\nhttp {\n  client_body_temp_path ${web}/body;\n` +
        `  proxy_temp_path ${web}/proxy;\n  include ${web}/site.conf;\n}\n`,
    );
    const standinEnv = {
      ...env(),
      ENCLAVE_SYSTEMCTL: STANDIN,
      STANDIN_NGINX_CONF: conf,
      ENCLAVE_NGINX_PID: join(web, 'nginx.pid'),
    };
    const chatUnits = ['enclave-chat@8080.service', 'enclave-chat@8083.service'];
    const pids = () => chatUnits.map((u) => readFileSync(join(root, 'run/standin', `${u}.pid`), 'utf8').trim()); // prettier-ignore
    let nginx: ChildProcess | null = null;
    try {
      await sh(STANDIN, ['restart', 'enclave-admin.service', 'enclave-audit.service', ...chatUnits], standinEnv); // prettier-ignore
      for (const port of [8080, 8083, 8081, 8082]) {
        await sh('curl', ['-fsS', '--retry', '60', '--retry-delay', '1', '--retry-connrefused', '--retry-all-errors', `http://127.0.0.2:${port}/readyz`]); // prettier-ignore
      }
      nginx = spawn('nginx', ['-c', conf], { stdio: 'ignore' });
      await sh('curl', ['-fsSk', '--retry', '20', '--retry-delay', '1', '--retry-connrefused', `https://127.0.0.1:${https}/healthz`]); // prettier-ignore
      const before = pids();

      const next = join(dir, 'enclave-9.9.3');
      await makeVersion(join(root, 'opt/enclave/9.9.2'), next, '9.9.3', 'site of 9.9.3');
      const failures: string[] = [];
      let sent = 0;
      let upgrading = true;
      // One new connection per request (as many clients as requests), under the site's
      // per-client rate limit (10/s).
      const traffic = (async () => {
        while (upgrading) {
          sent++;
          const outcome = await new Promise<string>((resolve) => {
            const req = get(
              `https://127.0.0.1:${https}/healthz`,
              { rejectUnauthorized: false, agent: false, timeout: 20_000 },
              (res) => {
                let body = '';
                res.on('data', (c: Buffer) => (body += c.toString()));
                res.on('end', () => resolve(res.statusCode === 200 ? 'ok' : `${res.statusCode} ${body.slice(0, 200)}`)); // prettier-ignore
              },
            );
            req.on('timeout', () => req.destroy(new Error('timed out')));
            req.on('error', (err) => resolve(`error ${err.message}`));
          });
          if (outcome !== 'ok') failures.push(outcome);
          await new Promise((r) => setTimeout(r, 150));
        }
      })();
      let out: string;
      try {
        ({ stdout: out } = await sh(join(next, 'scripts/install.sh'), ['--upgrade', '--skip-backup'], standinEnv)); // prettier-ignore
      } finally {
        await new Promise((r) => setTimeout(r, 1_000));
        upgrading = false;
        await traffic;
      }
      expect(out).toContain('upgraded 9.9.2 → 9.9.3');
      expect(readlinkSync(join(root, 'opt/enclave/current'))).toBe('9.9.3');
      // Every instance was restarted (on the new code), and no request failed meanwhile.
      const after = pids();
      expect(after.filter((p, i) => p === before[i])).toEqual([]);
      expect({ sent: sent > 50, failures }).toEqual({ sent: true, failures: [] });
      // Both instances answered through nginx, and the full upstream is back.
      const log = readFileSync(join(web, 'access.log'), 'utf8');
      expect(log).toContain('"upstream_addr":"127.0.0.2:8080"');
      expect(log).toContain('"upstream_addr":"127.0.0.2:8083"');
      expect(readFileSync(site('enclave-upstream.conf'), 'utf8')).toMatch(/127\.0\.0\.2:8080 .*\n.*127\.0\.0\.2:8083 /); // prettier-ignore
    } finally {
      await sh(STANDIN, ['stop-all'], standinEnv).catch(() => undefined);
      nginx?.kill('SIGQUIT');
    }
  }, 600_000);

  it('purges only with the server name typed, no legal hold active, after a final export', async () => {
    await expect(sh(INSTALL, ['--uninstall', '--purge'], env())).rejects.toThrow(
      /confirm with the server name \(--confirm other\.test\); nothing was removed/,
    );
    await expect(
      sh(INSTALL, ['--uninstall', '--purge', '--confirm', 'enclave.test'], env()),
    ).rejects.toThrow(/nothing was removed/);

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO audit_legal_holds (reason, from_at) VALUES ('litigation 42', now())`,
      );
      await expect(
        sh(INSTALL, ['--uninstall', '--purge', '--confirm', 'other.test'], env()),
      ).rejects.toThrow(/--purge refused: 1 legal hold\(s\) are active/);
      expect(existsSync(etc('install.conf'))).toBe(true);
      await client.query('UPDATE audit_legal_holds SET released_at = now()');
    } finally {
      await client.end();
    }

    // An uninstall keeps data and settings; installing again brings every setting back.
    await sh(INSTALL, ['--uninstall'], env());
    expect(readFileSync(join(root, 'etc/nginx/nginx.conf'), 'utf8')).toBe(
      readFileSync('/etc/nginx/nginx.conf', 'utf8'),
    );
    expect(existsSync(join(root, 'opt/enclave'))).toBe(false);
    expect(existsSync(join(root, 'etc/systemd/system/enclave-admin.service'))).toBe(false);
    expect(existsSync(etc('enclave.env'))).toBe(true);
    expect(existsSync(etc('audit/signing-key.pem'))).toBe(true);
    await sh(INSTALL, ['--release', tarball, '--no-start'], env());
    expect(settingsOf(etc('install.conf'))).toMatchObject(first);

    const exportDir = join(dir, 'final-export');
    const { stdout } = await sh(
      INSTALL,
      ['--uninstall', '--purge', '--confirm', 'other.test', '--final-export', exportDir],
      env(),
    );
    expect(stdout).toContain('final signed audit export');
    expect(existsSync(join(exportDir, 'enclave-final.manifest.json'))).toBe(true);
    expect(existsSync(etc(''))).toBe(false);
    expect(existsSync(join(root, 'var/lib/enclave'))).toBe(false);
    expect(readFileSync(join(root, 'etc/passwd'), 'utf8')).not.toMatch(/^enclave(-audit)?:/m);
  }, 400_000);
});
