import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import pg from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { type Config, ConfigError, loadConfig } from '@enclave/config';
import { databaseUrl, dataSourceOptions, parsePostgresUrl, pendingMigrations } from '@enclave/db';
import { checkHost } from './doctor-host.js';
import { checkCluster } from './doctor-cluster.js';
import { checkSigningKeys } from './doctor-keys.js';
import { checkAuditRuntime } from './doctor-audit.js';

type Verdict = 'ok' | 'warn' | 'fail';

export interface Finding {
  check: string;
  verdict: Verdict;
  message: string;
  /** What to do about it, for warn and fail. */
  fix?: string;
}

const TIMEOUT_MS = 5_000;
const CERT_WARN_DAYS = 30;
const MARK: Record<Verdict, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' };

/** `enclave doctor`: what is wrong with this installation, and what to do about it. */
export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'check config, database, replication, upstream, certificate, audit keys, sealer and SIEM, clock, disk and services; say what to fix',
    )
    .option('--cert <file>', 'TLS certificate nginx serves', '/etc/enclave/tls/enclave.crt')
    .option(
      '--pgbackrest-config <file>',
      'pgBackRest configuration (backup age, WAL archive)',
      '/etc/pgbackrest/pgbackrest.conf',
    )
    .action(async (opts: { cert: string; pgbackrestConfig: string }) => {
      const findings = await diagnose(opts.cert, opts.pgbackrestConfig);
      for (const f of findings) {
        console.log(`${MARK[f.verdict]} ${f.check}: ${f.message}`);
        if (f.fix) console.log(`     fix: ${f.fix}`);
      }
      const failed = findings.filter((f) => f.verdict === 'fail').length;
      const warned = findings.filter((f) => f.verdict === 'warn').length;
      console.log(`\n${failed} failed, ${warned} warning(s), ${findings.length} checks`);
      process.exitCode = failed ? 1 : 0;
    });
}

export async function diagnose(
  certFile: string,
  pgbackrestConfig = '/etc/pgbackrest/pgbackrest.conf',
): Promise<Finding[]> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return [
      {
        check: 'config',
        verdict: 'fail',
        message: err.message,
        fix: `correct ${err.key} in the env file (or the environment); README.md lists every key`,
      },
    ];
  }
  const findings: Finding[] = [
    {
      check: 'config',
      verdict: 'ok',
      message: `valid (${config.configFile ?? 'environment and defaults only'})`,
    },
  ];
  findings.push(...(await checkDatabase(config)));
  findings.push(...(await checkReplication(config)));
  findings.push(...(await checkCluster(config, pgbackrestConfig)));
  findings.push(await checkUpstream(config));
  findings.push(checkCertificate(certFile));
  findings.push(...(await checkSigningKeys(config)));
  findings.push(...(await checkAuditRuntime(config)));
  findings.push(...(await checkHost(config)));
  return findings;
}

async function checkDatabase(config: Config): Promise<Finding[]> {
  if (!config.database.url) {
    return [
      {
        check: 'database',
        verdict: 'warn',
        message: 'DATABASE_URL is unset: the embedded database (one server, no standby or backups)',
        fix: 'set DATABASE_URL to a Postgres primary (scripts/install.sh sets up a local one)',
      },
    ];
  }
  const ds = new DataSource({
    ...dataSourceOptions({ ...config, database: { ...config.database, poolSize: 1 } }, 'doctor'),
    logging: false,
  } as DataSourceOptions);
  try {
    await withTimeout(ds.initialize(), 'connecting');
    const pending = await pendingMigrations(ds);
    return [
      { check: 'database', verdict: 'ok', message: 'the primary answers' },
      pending.length
        ? {
            check: 'migrations',
            verdict: 'fail',
            message: `not applied: ${pending.join(', ')}`,
            fix: 'run `enclave migrate` (apps then report ready)',
          }
        : { check: 'migrations', verdict: 'ok', message: 'all applied' },
    ];
  } catch (err) {
    return [
      {
        check: 'database',
        verdict: 'fail',
        message: `cannot use DATABASE_URL: ${(err as Error).message}`,
        fix: 'is Postgres running and reachable from here? Are the user, password and database in DATABASE_URL right (pg_hba.conf allows this host)?',
      },
    ];
  } finally {
    if (ds.isInitialized) await ds.destroy().catch(() => undefined);
  }
}

/** Each host of DATABASE_URL: primary or standby, and on the primary, which standbys stream. */
async function checkReplication(config: Config): Promise<Finding[]> {
  if (!config.database.url) return [];
  let hosts;
  try {
    hosts = parsePostgresUrl(databaseUrl(config));
  } catch {
    return [];
  }
  const roles = await Promise.all(
    hosts.hosts.map(async (host) => {
      const client = new pg.Client({
        connectionString: hosts.forHost(host),
        connectionTimeoutMillis: TIMEOUT_MS,
        query_timeout: TIMEOUT_MS,
      });
      client.on('error', () => undefined);
      const name = `${host.host}:${host.port}`;
      try {
        await client.connect();
        const [{ standby }] = (await client.query('SELECT pg_is_in_recovery() AS standby')).rows;
        const streaming = standby
          ? []
          : (
              await client.query(
                'SELECT application_name, state, sync_state FROM pg_stat_replication',
              )
            ).rows;
        return { name, standby: standby as boolean, streaming, error: null };
      } catch (err) {
        return { name, standby: null, streaming: [], error: (err as Error).message };
      } finally {
        await client.end().catch(() => undefined);
      }
    }),
  );
  const primaries = roles.filter((r) => r.standby === false);
  const findings: Finding[] = [];
  if (hosts.hosts.length > 1 && primaries.length !== 1) {
    findings.push({
      check: 'replication',
      verdict: 'fail',
      message: primaries.length
        ? `${primaries.length} primaries (${primaries.map((p) => p.name).join(', ')}): split brain`
        : 'no host of DATABASE_URL is a primary',
      fix: primaries.length
        ? 'run Postgres under Patroni (deploy/patroni): it fences and rewinds an old primary'
        : 'patronictl list; docs/operations.md, "Failover"',
    });
  }
  for (const r of roles) {
    if (r.error) {
      findings.push({
        check: 'replication',
        verdict: hosts.hosts.length > 1 ? 'warn' : 'fail',
        message: `${r.name} does not answer: ${r.error}`,
        fix: 'start it, or rebuild it (`patronictl reinit`; docs/operations.md, "Node rebuild")',
      });
    } else if (r.standby === false) {
      const streams = r.streaming.map(
        (s: { application_name: string; state: string; sync_state: string }) =>
          `${s.application_name} ${s.state} ${s.sync_state}`,
      );
      findings.push({
        check: 'replication',
        verdict: streams.length || hosts.hosts.length === 1 ? 'ok' : 'warn',
        message: `${r.name} is the primary; standbys: ${streams.join(', ') || 'none'}`,
        fix:
          streams.length || hosts.hosts.length === 1
            ? undefined
            : 'the standbys in DATABASE_URL are not streaming: check their logs (patronictl list), or rebuild one (docs/operations.md, "Node rebuild")',
      });
    } else {
      findings.push({ check: 'replication', verdict: 'ok', message: `${r.name} is a standby` });
    }
  }
  return findings;
}

async function checkUpstream(config: Config): Promise<Finding> {
  const url = `${config.upstream.url.replace(/\/$/, '')}/models`;
  try {
    const res = await fetch(url, {
      headers: config.upstream.apiKey ? { authorization: `Bearer ${config.upstream.apiKey}` } : {},
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!res.ok) {
      return {
        check: 'upstream',
        verdict: 'fail',
        message: `${url} answered ${res.status}`,
        fix:
          res.status === 401 || res.status === 403
            ? 'set ENCLAVE_UPSTREAM_API_KEY (or the backend key in the admin console)'
            : 'check the LLM server and ENCLAVE_UPSTREAM_URL (it ends with /v1)',
      };
    }
    const body = (await res.json()) as { data?: { id: string }[] };
    const models = (body.data ?? []).map((m) => m.id);
    return {
      check: 'upstream',
      verdict: models.length ? 'ok' : 'warn',
      message: `${url}: ${models.length ? models.join(', ') : 'no models listed'}`,
      fix: models.length ? undefined : 'load a model on the LLM server',
    };
  } catch (err) {
    return {
      check: 'upstream',
      verdict: 'fail',
      message: `${url} does not answer: ${(err as Error).message}`,
      fix: config.upstream.isBundledSimulator
        ? 'set ENCLAVE_UPSTREAM_URL to your LLM server (unset, the bundled simulator is expected)'
        : 'is the LLM server up, and reachable from this host (firewall)?',
    };
  }
}

function checkCertificate(file: string): Finding {
  if (!existsSync(file)) {
    return {
      check: 'certificate',
      verdict: 'warn',
      message: `${file} does not exist`,
      fix: 'give install.sh --cert/--key, or pass --cert to point at the one nginx serves',
    };
  }
  try {
    const cert = new X509Certificate(readFileSync(file));
    const days = Math.floor((Date.parse(cert.validTo) - Date.now()) / 86_400_000);
    const selfSigned = cert.issuer === cert.subject;
    const what = `${cert.subject.replace(/\n/g, ', ')}, ${days} days left${selfSigned ? ', self-signed' : ''}`;
    if (days < 0) {
      return {
        check: 'certificate',
        verdict: 'fail',
        message: `expired: ${what}`,
        fix: 'install a new certificate (install.sh --cert/--key) and reload nginx',
      };
    }
    if (days < CERT_WARN_DAYS || selfSigned) {
      return {
        check: 'certificate',
        verdict: 'warn',
        message: what,
        fix: selfSigned
          ? "replace it with one from your company's CA (install.sh --cert/--key)"
          : 'renew it before it expires',
      };
    }
    return { check: 'certificate', verdict: 'ok', message: what };
  } catch (err) {
    return {
      check: 'certificate',
      verdict: 'fail',
      message: `${file} is not a PEM certificate: ${(err as Error).message}`,
      fix: 'install a valid certificate (install.sh --cert/--key)',
    };
  }
}

async function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
