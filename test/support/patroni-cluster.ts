import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { asPostgres, PGBIN, postgresOwnedDir } from './pg-cluster.js';
import { freePort } from './ports.js';

const run = promisify(execFile);

/** The shipped deploy/patroni kit, with a trailing slash. */
export const DEPLOY_PATRONI = fileURLToPath(new URL('../../deploy/patroni/', import.meta.url));

export interface Member {
  name: string;
  role: string;
  state: string;
  host: string;
  port: number;
  lag?: number | string;
}

interface PatroniNode {
  name: string;
  dir: string;
  config: string;
  dataDir: string;
  pgPort: number;
  restPort: number;
  child: ChildProcess | null;
}

/**
 * Three etcd members and N Patroni-managed Postgres nodes on loopback, configured with the shipped
 * kit (deploy/patroni: make-certs.sh, render.sh, the templates), each in its own directory under
 * one temporary root. Timings are shortened (ttl 10 s) so a failover fits a test.
 */
export class PatroniCluster {
  readonly nodes: PatroniNode[] = [];
  private readonly etcd: ChildProcess[] = [];
  secrets: Record<string, string> = {};

  private constructor(readonly root: string) {}

  static async start(nodeCount = 2): Promise<PatroniCluster> {
    const root = postgresOwnedDir(mkdtempSync(join(tmpdir(), 'enclave-patroni-')));
    chmodSync(root, 0o711);
    const cluster = new PatroniCluster(root);
    try {
      await cluster.boot(nodeCount);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** libpq/pg URL of the app role on `node`, TLS checked against the kit's CA. */
  appUrl(node = this.nodes[0]!): string {
    const pw = encodeURIComponent(this.secrets.APP_PASSWORD!);
    return `postgres://enclave:${pw}@127.0.0.1:${node.pgPort}/enclave?sslmode=verify-full&sslrootcert=${join(this.root, 'certs', 'ca.crt')}`;
  }

  get restUrls(): string[] {
    return this.nodes.map((n) => `http://127.0.0.1:${n.restPort}`);
  }

  node(name: string): PatroniNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  private async boot(nodeCount: number): Promise<void> {
    const kit = (script: string, args: string[]) =>
      run(join(DEPLOY_PATRONI, script), args, { timeout: 60_000 });
    const etcdMembers: string[] = [];
    for (let i = 1; i <= 3; i++) {
      etcdMembers.push(`e${i}=127.0.0.1:${await freePort()}:${await freePort()}`);
    }
    const etcdList = etcdMembers.join(',');
    const names = Array.from({ length: nodeCount }, (_, i) => `pg${i + 1}`);
    await kit('make-certs.sh', [
      '--out',
      join(this.root, 'certs'),
      ...names.flatMap((n) => ['--node', `${n}=127.0.0.1`]),
    ]);

    for (let i = 1; i <= 3; i++) {
      const dir = join(this.root, `etcd${i}`);
      mkdirSync(dir);
      await kit('render.sh', [
        ...['--out', dir, '--name', `e${i}`, '--address', '127.0.0.1', '--etcd', etcdList],
        ...['--etcd-only', '--etcd-data-dir', join(dir, 'data')],
      ]);
      const child = spawn('etcd', ['--config-file', join(dir, 'etcd.conf.yml')], {
        stdio: 'ignore',
      });
      this.etcd.push(child);
    }

    const secrets = join(this.root, 'secrets.env');
    for (const name of names) {
      const dir = join(this.root, name);
      const tls = join(dir, 'tls');
      mkdirSync(join(dir, 'log'), { recursive: true });
      mkdirSync(tls);
      for (const f of ['ca.crt', 'node.crt', 'node.key']) {
        await run('cp', [join(this.root, 'certs', name, f), join(tls, f)]);
      }
      const node: PatroniNode = {
        name,
        dir,
        config: join(dir, 'patroni.yml'),
        dataDir: join(dir, 'data'),
        pgPort: await freePort(),
        restPort: await freePort(),
        child: null,
      };
      await kit('render.sh', [
        ...['--out', dir, '--name', name, '--address', '127.0.0.1', '--etcd', etcdList],
        ...['--secrets', secrets, '--pg-port', String(node.pgPort)],
        ...['--rest-port', String(node.restPort), '--data-dir', node.dataDir, '--tls-dir', tls],
        ...['--state-dir', dir, '--log-dir', join(dir, 'log'), '--socket-dir', dir],
        ...['--peer-network', '127.0.0.1/32', '--pg-bin', PGBIN, '--max-connections', '60'],
        ...['--ttl', '10', '--loop-wait', '2', '--retry-timeout', '3'],
      ]);
      this.nodes.push(node);
    }
    await run('chown', ['-R', 'postgres:postgres', this.root]);
    chmodSync(secrets, 0o600);
    this.secrets = Object.fromEntries(
      readFileSync(secrets, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );

    for (const node of this.nodes) this.startNode(node.name);
    await this.waitFor(
      async () => {
        const members = await this.members();
        return (
          members.some((m) => m.role === 'leader' && m.state === 'running') &&
          members.filter((m) => m.role === 'sync_standby' && m.state === 'running').length === 1
        );
      },
      'a leader and a synchronous standby',
      120_000,
    );
  }

  /** Starts (or restarts) Patroni on `name`, as the postgres user, as systemd would. */
  startNode(name: string): void {
    const node = this.node(name);
    // setpriv execs patroni itself (runuser would stay its parent): the pid is Patroni's.
    node.child = spawn(
      'setpriv',
      ['--reuid=postgres', '--regid=postgres', '--init-groups', 'patroni', node.config],
      {
        env: { PATH: `${PGBIN}:/usr/bin:/bin`, HOME: node.dir, LANG: 'C.UTF-8' },
        stdio: 'ignore',
        cwd: node.dir,
      },
    );
  }

  /** The machine died: SIGKILL to Patroni and to the postmaster and every backend. */
  async killNode(name: string): Promise<void> {
    const node = this.node(name);
    const pids: number[] = [];
    if (node.child && node.child.exitCode === null && node.child.signalCode === null) {
      pids.push(node.child.pid!);
    }
    const postmaster = this.postmasterPid(node);
    if (postmaster) {
      pids.push(postmaster);
      const children = await run('pgrep', ['-P', String(postmaster)])
        .then((r) => r.stdout.split('\n').filter(Boolean).map(Number))
        .catch(() => [] as number[]);
      pids.push(...children);
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (node.child && node.child.exitCode === null && node.child.signalCode === null) {
      await once(node.child, 'exit');
    }
  }

  /** A clean stop: Patroni stops its Postgres (fast) and leaves the cluster. */
  async stopNode(name: string): Promise<void> {
    const child = this.node(name).child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const exited = once(child, 'exit');
    const timeout = new Promise((r) => setTimeout(r, 30_000, 'timeout'));
    if ((await Promise.race([exited, timeout])) === 'timeout') await this.killNode(name);
  }

  private postmasterPid(node: PatroniNode): number | null {
    try {
      return Number(readFileSync(join(node.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch {
      return null;
    }
  }

  /** GET /cluster from the first node that answers. */
  async members(): Promise<Member[]> {
    for (const url of this.restUrls) {
      try {
        const res = await fetch(`${url}/cluster`, { signal: AbortSignal.timeout(2_000) });
        if (res.ok) return ((await res.json()) as { members: Member[] }).members;
      } catch {
        // that node is down; ask the next
      }
    }
    return [];
  }

  async leader(): Promise<PatroniNode | null> {
    const m = (await this.members()).find((x) => x.role === 'leader' && x.state === 'running');
    return m ? this.node(m.name) : null;
  }

  /** psql as the postgres superuser over the node's Unix socket. */
  async psql(name: string, sql: string, db = 'enclave'): Promise<string> {
    const node = this.node(name);
    const { stdout } = await asPostgres('psql', [
      ...['-XAtq', '-v', 'ON_ERROR_STOP=1', '-h', node.dir, '-p', String(node.pgPort)],
      ...['-d', db, '-c', sql],
    ]);
    return stdout.trim();
  }

  /** `patronictl` with node `name`'s configuration, as the postgres user. */
  async patronictl(name: string, args: string[]): Promise<string> {
    const { stdout } = await asPostgres('patronictl', ['-c', this.node(name).config, ...args]);
    return stdout;
  }

  async waitFor(probe: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (await probe().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(
      `timed out waiting for ${what}; members: ${JSON.stringify(await this.members())}`,
    );
  }

  /** Everything down, whatever state it is in, and the directory gone. */
  async stop(): Promise<void> {
    for (const node of this.nodes) await this.killNode(node.name).catch(() => undefined);
    await Promise.all(
      this.etcd
        .filter((c) => c.exitCode === null && c.signalCode === null)
        .map((c) => (c.kill('SIGKILL'), once(c, 'exit'))),
    );
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** chown to postgres (for files the test writes after boot). */
export function giveToPostgres(path: string): void {
  const [, , uid, gid] = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'))!
    .split(':');
  chownSync(path, Number(uid), Number(gid));
}
