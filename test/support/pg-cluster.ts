import { execFile } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The Postgres server binaries (Debian's layout; the tests need the `postgresql` package). */
export const PGBIN = process.env.PGBIN ?? '/usr/lib/postgresql/15/bin';

/** The shipped deploy/postgres scripts, with a trailing slash. */
export const DEPLOY_POSTGRES = fileURLToPath(new URL('../../deploy/postgres/', import.meta.url));

export interface RunResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs a command as the postgres user (initdb and postgres refuse root), with PGHOST/PGPORT and
 * anything else in `env`. Throws with the command's output when it fails.
 */
export async function asPostgres(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<RunResult> {
  const pairs = Object.entries({ PGBIN, PATH: `${PGBIN}:/usr/bin:/bin`, ...env }).map(
    ([k, v]) => `${k}=${v}`,
  );
  try {
    return await run('runuser', ['-u', 'postgres', '--', 'env', ...pairs, cmd, ...args], {
      timeout: 120_000,
    });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stdout}\n${e.stderr}`, {
      cause: err,
    });
  }
}

/** A directory the postgres user owns. */
export function postgresOwnedDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  const { uid, gid } = postgresIds();
  chownSync(path, uid, gid);
  return path;
}

function postgresIds(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('no postgres user on this machine (apt-get install postgresql)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** A throwaway Postgres server on loopback in a temporary directory. */
export class TempCluster {
  constructor(
    readonly dataDir: string,
    readonly socketDir: string,
    readonly port: number,
  ) {}

  get env(): Record<string, string> {
    return { PGHOST: this.socketDir, PGPORT: String(this.port), PGUSER: 'postgres' };
  }

  /** initdb + loopback-only settings; local socket trusted, TCP with scram-sha-256. */
  static async init(dataDir: string, socketDir: string, port: number): Promise<TempCluster> {
    postgresOwnedDir(dataDir);
    await asPostgres(`${PGBIN}/initdb`, [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '-E',
      'UTF8',
      '--no-instructions',
    ]);
    const conf = join(dataDir, 'postgresql.conf');
    writeFileSync(
      conf,
      `${readFileSync(conf, 'utf8')}
port = ${port}
listen_addresses = '127.0.0.1'
unix_socket_directories = '${socketDir}'
fsync = off
shared_buffers = 32MB
max_connections = 60
`,
    );
    return new TempCluster(dataDir, socketDir, port);
  }

  async start(): Promise<void> {
    await asPostgres(`${PGBIN}/pg_ctl`, [
      '-D',
      this.dataDir,
      '-w',
      '-t',
      '60',
      '-l',
      `${this.dataDir}.log`,
      'start',
    ]);
  }

  /** Stops it, however it is: fine to call on a stopped or killed server. */
  async stop(): Promise<void> {
    await asPostgres(`${PGBIN}/pg_ctl`, ['-D', this.dataDir, '-m', 'immediate', 'stop']).catch(
      () => undefined,
    );
  }

  /** The postmaster's pid, from postmaster.pid. */
  pid(): number {
    return Number(readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  }

  /** SIGKILL to the postmaster and its children: the machine under it died. */
  async kill(): Promise<void> {
    const pid = this.pid();
    const children = await run('pgrep', ['-P', String(pid)])
      .then((r) => r.stdout.split('\n').filter(Boolean).map(Number))
      .catch(() => [] as number[]);
    for (const p of [pid, ...children]) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  async psql(sql: string, db = 'postgres'): Promise<string> {
    const { stdout } = await asPostgres(
      'psql',
      ['-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c', sql],
      this.env,
    );
    return stdout.trim();
  }
}

/**
 * Makes `standby` a streaming copy of `primary` with the shipped setup-standby.sh: pg_basebackup
 * through a replication slot called `name`, then started on the standby's own port.
 */
export async function setupStandby(
  primary: TempCluster,
  standby: TempCluster,
  { name, passwordFile }: { name: string; passwordFile: string },
): Promise<RunResult> {
  return asPostgres(`${DEPLOY_POSTGRES}setup-standby.sh`, [
    '--primary-host',
    '127.0.0.1',
    '--primary-port',
    String(primary.port),
    '--pgdata',
    standby.dataDir,
    '--name',
    name,
    '--port',
    String(standby.port),
    '--replication-password-file',
    passwordFile,
  ]);
}
