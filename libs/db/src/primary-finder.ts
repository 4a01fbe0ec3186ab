import { Logger } from '@nestjs/common';
import { DatabaseUnavailableError } from '@enclave/http';
import pg from 'pg';
import { findPatroniLeader } from './patroni-leader.js';
import { describeHosts, type PostgresHost, type PostgresUrl } from './postgres-hosts.js';

const PROBE_TIMEOUT_MS = 3_000;

/**
 * Errors that say the server we talk to is not (or no longer) a primary we can write to:
 * read-only transaction (a standby), shutdown by the administrator or a crash, or the server
 * still starting up / in recovery.
 */
const NOT_PRIMARY = new Set(['25006', '57P01', '57P02', '57P03']);

type Answer = { host: PostgresHost; standby: boolean } | { host: PostgresHost; error: string };

/**
 * Knows which Postgres server is the primary. With Patroni's REST APIs configured
 * (ENCLAVE_PATRONI_URLS) it asks Patroni which node holds the leader lock; otherwise it asks each
 * host of the URL `pg_is_in_recovery()`. It keeps the answer until a connection fails or a write
 * meets a read-only server, then asks again. No primary, or more than one, fails closed
 * (DatabaseUnavailableError: 503 database_unavailable). Shared by every pool and client of one
 * URL in the process, so one failure re-routes them all.
 */
export class PrimaryFinder {
  private readonly log = new Logger('PrimaryFinder');
  private known: PostgresHost | null = null;
  private probing: Promise<PostgresHost> | null = null;

  constructor(
    readonly url: PostgresUrl,
    private readonly probeTimeoutMs = PROBE_TIMEOUT_MS,
    /** Patroni REST API base URLs (http://db1:8008); empty: ask the URL's hosts directly. */
    readonly patroniUrls: readonly string[] = [],
  ) {}

  /** The primary found last, or a fresh probe of every host when none is known. */
  primary(): Promise<PostgresHost> {
    if (this.known) return Promise.resolve(this.known);
    this.probing ??= this.probe().finally(() => (this.probing = null));
    return this.probing;
  }

  /** Forget `host` as primary (it failed, or was read-only): the next primary() probes again. */
  forget(host: PostgresHost | null): void {
    if (host && this.known && sameHost(host, this.known)) {
      this.log.warn({ host: describeHosts([host]) }, 'primary lost; will look for it again');
      this.known = null;
    }
  }

  private async probe(): Promise<PostgresHost> {
    this.known = this.patroniUrls.length
      ? await findPatroniLeader(this.patroniUrls, this.probeTimeoutMs)
      : await this.probeHosts();
    this.log.log({ host: describeHosts([this.known]) }, 'writing to this Postgres primary');
    return this.known;
  }

  private async probeHosts(): Promise<PostgresHost> {
    const answers = await Promise.all(this.url.hosts.map((host) => this.ask(host)));
    const primaries = answers.filter((a) => 'standby' in a && !a.standby).map((a) => a.host);
    if (primaries.length === 0) {
      const reasons = answers.map(
        (a) => `${describeHosts([a.host])}: ${'error' in a ? a.error : 'standby'}`,
      );
      throw new DatabaseUnavailableError(`no Postgres primary found (${reasons.join('; ')})`);
    }
    if (primaries.length > 1) {
      // Two writable servers is split brain (an old primary not fenced after a failover): writing
      // to either could lose the other's commits, so no write goes anywhere until one is stopped.
      throw new DatabaseUnavailableError(
        `more than one Postgres server accepts writes (${describeHosts(primaries)}); stop the old primary (under Patroni this does not happen: set ENCLAVE_PATRONI_URLS)`,
      );
    }
    return primaries[0]!;
  }

  private async ask(host: PostgresHost): Promise<Answer> {
    const client = new pg.Client({
      connectionString: this.url.forHost(host),
      connectionTimeoutMillis: this.probeTimeoutMs,
      query_timeout: this.probeTimeoutMs,
      application_name: 'enclave-primary-probe',
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const { rows } = await client.query<{ standby: boolean }>(
        'SELECT pg_is_in_recovery() AS standby',
      );
      return { host, standby: rows[0]!.standby };
    } catch (err) {
      return { host, error: (err as Error).message || String(err) };
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

function sameHost(a: PostgresHost, b: PostgresHost): boolean {
  return a.host === b.host && a.port === b.port;
}

type Callback = (err: Error | null, client?: pg.Client) => void;

/**
 * A `pg.Client` class that connects to whichever host `finder` says is the primary, checks that
 * it really is, and reports connection losses and read-only errors back to the finder (and
 * closes itself after a read-only error, so a pool drops it instead of reusing it).
 * Give it to pg.Pool (TypeORM: `extra.Client`) or instantiate it directly.
 */
export function primaryClientClass(finder: PrimaryFinder): typeof pg.Client {
  return class PrimaryClient extends pg.Client {
    private target: PostgresHost | null = null;

    constructor(config?: string | pg.ClientConfig) {
      super(config);
      this.on('error', () => finder.forget(this.target));
    }

    override connect(): Promise<pg.Client>;
    override connect(callback: Callback): void;
    override connect(callback?: Callback): Promise<pg.Client> | void {
      const connecting = this.connectToPrimary();
      if (!callback) return connecting;
      connecting.then(
        (client) => callback(null, client),
        (err: Error) => callback(err),
      );
    }

    private async connectToPrimary(): Promise<pg.Client> {
      const target = await finder.primary();
      this.target = target;
      this.host = target.host;
      this.port = target.port;
      try {
        await super.connect();
      } catch (err) {
        finder.forget(target);
        throw err;
      }
      // The finder's answer may be stale (a switchover since): never hand out a standby.
      const { rows } = await super.query<{ standby: boolean }>(
        'SELECT pg_is_in_recovery() AS standby',
      );
      if (rows[0]!.standby) {
        finder.forget(target);
        await this.end().catch(() => undefined);
        throw new DatabaseUnavailableError(
          `${describeHosts([target])} is a standby (read-only); the primary is being looked up again`,
        );
      }
      return this;
    }

    // Every query form goes through here; watch the outcome without changing it.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    override query(...args: any[]): any {
      const last = args.length - 1;
      if (typeof args[last] === 'function') {
        const callback = args[last] as (err: Error | null, ...rest: unknown[]) => void;
        args[last] = (err: Error | null, ...rest: unknown[]) => {
          if (err) this.noticeError(err);
          callback(err, ...rest);
        };
      }
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const result = (super.query as any)(...args);
      if (result && typeof result.then === 'function') {
        return result.catch((err: Error) => {
          this.noticeError(err);
          throw err;
        });
      }
      return result;
    }

    private noticeError(err: Error): void {
      const code = (err as { code?: string }).code;
      if (!code || !NOT_PRIMARY.has(code)) return;
      finder.forget(this.target);
      // A pool must not hand this connection out again: closed clients are dropped on release.
      void this.end().catch(() => undefined);
    }
  };
}
