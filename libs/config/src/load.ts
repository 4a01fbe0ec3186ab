import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parse as parseEnvFile } from 'dotenv';
import { KEYS, type ConfigKey, type KeySpec } from './keys.js';

export const DEFAULT_CONFIG_FILE = '/etc/enclave/enclave.env';

/** A configuration mistake: its message is one line a person can act on, never a stack trace. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface Config {
  host: string;
  ports: { chat: number; admin: number; audit: number; llmSim: number };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  shutdownTimeoutMs: number;
  /** Where the values came from, for the start-up log line. */
  configFile: string | null;
  database: {
    /** Unset means the embedded database, reached at embeddedPort. */
    url: string | null;
    /** Patroni REST APIs naming the leader (ENCLAVE_PATRONI_URLS); empty: not under Patroni. */
    patroniUrls: string[];
    poolSize: number;
    migrateOnStart: boolean;
    dataDir: string;
    embeddedPort: number;
  };
  upstream: {
    url: string;
    apiKey: string | null;
    isBundledSimulator: boolean;
    timeoutMs: number;
    healthIntervalMs: number;
  };
  /** 32 bytes, or null: then libs/llm keeps one in ENCLAVE_DATA_DIR/master.key. */
  masterKey: Buffer | null;
  /** Backend hosts an admin may add although link-local or metadata addresses (lower case). */
  backendAllowedHosts: string[];
  http: { maxBodyBytes: number };
  /** Completion records: the local spool for database outages, and the reconciler's deadline. */
  records: { spoolMaxBytes: number; completionDeadlineMs: number };
  cache: { scope: 'user' | 'global' | 'off'; ttlSeconds: number; maxEntries: number };
  /** token null: /metrics answers loopback callers only. */
  metrics: { token: string | null };
  /** Where users reach Enclave (origin only), or null when not configured. */
  publicUrl: string | null;
  auth: {
    sessionTtlHours: number;
    /** Progressive delays after failed sign-ins, per account and per client address. */
    signIn: { accountFreeFailures: number; clientFreeFailures: number; maxDelaySeconds: number };
    /** Requests per minute per client address without valid credentials; 0: unlimited. */
    anonymousRatePerMinute: number;
    /** Anonymous refusals from one address make one audit event per window; 0: one each. */
    denialWindowSeconds: number;
    /** Email + password sign-in (POST /api/auth/login). */
    localLogin: boolean;
    /** Single sign-on, or null when ENCLAVE_OIDC_ISSUER is unset. */
    oidc: OidcConfig | null;
  };
  audit: {
    signingKeyFile: string;
    keyringFile: string;
    checkpointEvery: number;
    checkpointSeconds: number;
    sealIntervalMs: number;
    unsealedAlertSeconds: number;
    retentionIntervalSeconds: number;
    exportDir: string;
    /** SIEM forwarding (AUDIT_SIEM_*); null: off. */
    siem: {
      /** AUDIT_SIEM_URL as configured: also the key of the forwarder's cursor. */
      url: string;
      tls: boolean;
      host: string;
      port: number;
      caFile: string | null;
      hostname: string;
      appName: string;
      maxMessageBytes: number;
      settleMs: number;
    } | null;
  };
  llmSim: {
    models: string[];
    ttftMs: number;
    tokensPerSec: number;
    replyTokens: number;
    errorRate: number;
    errorStatus: number;
    stallRate: number;
    stallMs: number;
    dropRate: number;
    dropAfterTokens: number;
  };
}

export interface OidcConfig {
  issuer: string;
  clientId: string;
  /** null: a public client (PKCE only). */
  clientSecret: string | null;
  /** `${publicUrl}/api/auth/oidc/callback`, registered at the provider. */
  redirectUri: string;
  roleClaim: string;
  /** Claim value → role name (user, auditor or admin). */
  roleMap: Record<string, 'user' | 'auditor' | 'admin'>;
  label: string;
}

type Values = { [K in ConfigKey]: unknown };

/**
 * Reads the configuration: the process environment wins over the env file named by ENCLAVE_CONFIG
 * (or /etc/enclave/enclave.env when it exists), which wins over the defaults in keys.ts.
 * Throws ConfigError for the first invalid key.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  defaultFile: string = DEFAULT_CONFIG_FILE,
): Config {
  const configFile = env.ENCLAVE_CONFIG ?? (existsSync(defaultFile) ? defaultFile : null);
  const fromFile = configFile ? readEnvFile(configFile) : {};
  const values = {} as Values;
  for (const [key, spec] of Object.entries(KEYS) as [ConfigKey, KeySpec][]) {
    const raw = nonEmpty(env[key]) ?? nonEmpty(fromFile[key]) ?? spec.default;
    if (raw === undefined) {
      values[key] = undefined;
      continue;
    }
    const parsed = spec.schema.safeParse(raw);
    if (!parsed.success) {
      const problem = parsed.error.issues[0]?.message ?? 'invalid';
      throw new ConfigError(
        key,
        `config: ${key}=${JSON.stringify(raw)} is invalid (${problem}); expected ${spec.expected}`,
      );
    }
    values[key] = parsed.data;
  }
  return toConfig(values, configFile, env.CREDENTIALS_DIRECTORY);
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

function readEnvFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(err);
    throw new ConfigError(
      'ENCLAVE_CONFIG',
      `config: ENCLAVE_CONFIG=${JSON.stringify(path)} cannot be read (${reason}); expected the path of a readable KEY=value env file`,
    );
  }
  return parseEnvFile(text);
}

/** Single sign-on needs its keys together; signing in must stay possible somehow. */
function toOidcConfig(v: Values): OidcConfig | null {
  const issuer = v.ENCLAVE_OIDC_ISSUER as string | undefined;
  if (issuer === undefined) {
    if (v.ENCLAVE_LOCAL_LOGIN === false) {
      throw new ConfigError(
        'ENCLAVE_LOCAL_LOGIN',
        'config: ENCLAVE_LOCAL_LOGIN=false needs single sign-on (ENCLAVE_OIDC_ISSUER), or nobody could sign in',
      );
    }
    return null;
  }
  for (const key of [
    'ENCLAVE_OIDC_CLIENT_ID',
    'ENCLAVE_PUBLIC_URL',
    'ENCLAVE_OIDC_ROLE_MAP',
  ] as const) {
    if (v[key] === undefined) {
      throw new ConfigError(
        key,
        `config: ${key} is unset; single sign-on (ENCLAVE_OIDC_ISSUER) needs it: ${KEYS[key].expected}`,
      );
    }
  }
  return {
    issuer,
    clientId: v.ENCLAVE_OIDC_CLIENT_ID as string,
    clientSecret: (v.ENCLAVE_OIDC_CLIENT_SECRET as string | undefined) ?? null,
    redirectUri: `${v.ENCLAVE_PUBLIC_URL as string}/api/auth/oidc/callback`,
    roleClaim: v.ENCLAVE_OIDC_ROLE_CLAIM as string,
    roleMap: v.ENCLAVE_OIDC_ROLE_MAP as OidcConfig['roleMap'],
    label: v.ENCLAVE_OIDC_LABEL as string,
  };
}

function toConfig(v: Values, configFile: string | null, credentialsDir?: string): Config {
  const llmSimPort = v.LLM_SIM_PORT as number;
  const upstreamUrl = v.ENCLAVE_UPSTREAM_URL as string | undefined;
  return {
    host: v.ENCLAVE_HOST as string,
    ports: {
      chat: v.CHAT_PORT as number,
      admin: v.ADMIN_PORT as number,
      audit: v.AUDIT_PORT as number,
      llmSim: llmSimPort,
    },
    logLevel: v.LOG_LEVEL as Config['logLevel'],
    shutdownTimeoutMs: v.ENCLAVE_SHUTDOWN_TIMEOUT_MS as number,
    configFile,
    database: {
      url: (v.DATABASE_URL as string | undefined) ?? null,
      patroniUrls: ((v.ENCLAVE_PATRONI_URLS as string | undefined) ?? '')
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean),
      poolSize: v.DATABASE_POOL_SIZE as number,
      migrateOnStart: v.ENCLAVE_MIGRATE_ON_START as boolean,
      dataDir: v.ENCLAVE_DATA_DIR as string,
      embeddedPort: v.ENCLAVE_EMBEDDED_DB_PORT as number,
    },
    upstream: {
      url: upstreamUrl ?? `http://127.0.0.1:${llmSimPort}/v1`,
      apiKey: (v.ENCLAVE_UPSTREAM_API_KEY as string | undefined) ?? null,
      isBundledSimulator: upstreamUrl === undefined,
      timeoutMs: v.ENCLAVE_UPSTREAM_TIMEOUT_MS as number,
      healthIntervalMs: v.ENCLAVE_HEALTH_INTERVAL_MS as number,
    },
    masterKey: v.ENCLAVE_MASTER_KEY ? Buffer.from(v.ENCLAVE_MASTER_KEY as string, 'base64') : null,
    http: { maxBodyBytes: (v.ENCLAVE_MAX_BODY_MB as number) * 1024 * 1024 },
    records: {
      spoolMaxBytes: (v.ENCLAVE_SPOOL_MAX_MB as number) * 1024 * 1024,
      completionDeadlineMs: (v.ENCLAVE_COMPLETION_DEADLINE_S as number) * 1000,
    },
    cache: {
      scope: v.ENCLAVE_CACHE_SCOPE as Config['cache']['scope'],
      ttlSeconds: v.ENCLAVE_CACHE_TTL_SECONDS as number,
      maxEntries: v.ENCLAVE_CACHE_MAX_ENTRIES as number,
    },
    publicUrl: (v.ENCLAVE_PUBLIC_URL as string | undefined) ?? null,
    backendAllowedHosts: (v.ENCLAVE_BACKEND_ALLOWED_HOSTS as string[] | undefined) ?? [],
    metrics: { token: (v.ENCLAVE_METRICS_TOKEN as string | undefined) ?? null },
    auth: {
      sessionTtlHours: v.AUTH_SESSION_TTL_HOURS as number,
      signIn: {
        accountFreeFailures: v.AUTH_SIGNIN_FREE_FAILURES as number,
        clientFreeFailures: v.AUTH_SIGNIN_CLIENT_FREE_FAILURES as number,
        maxDelaySeconds: v.AUTH_SIGNIN_MAX_DELAY_SECONDS as number,
      },
      anonymousRatePerMinute: v.ENCLAVE_ANONYMOUS_RATE_PER_MINUTE as number,
      denialWindowSeconds: v.AUDIT_DENIAL_WINDOW_SECONDS as number,
      localLogin: v.ENCLAVE_LOCAL_LOGIN as boolean,
      oidc: toOidcConfig(v),
    },
    audit: {
      signingKeyFile:
        credentialFile(credentialsDir, SIGNING_KEY_CREDENTIAL) ??
        (v.AUDIT_SIGNING_KEY_FILE as string | undefined) ??
        join(v.ENCLAVE_DATA_DIR as string, 'audit', 'signing-key.pem'),
      keyringFile:
        (v.AUDIT_KEYRING_FILE as string | undefined) ??
        join(v.ENCLAVE_DATA_DIR as string, 'audit', 'keyring.json'),
      checkpointEvery: v.AUDIT_CHECKPOINT_EVERY as number,
      checkpointSeconds: v.AUDIT_CHECKPOINT_SECONDS as number,
      sealIntervalMs: v.AUDIT_SEAL_INTERVAL_MS as number,
      unsealedAlertSeconds: v.AUDIT_UNSEALED_ALERT_SECONDS as number,
      retentionIntervalSeconds: v.AUDIT_RETENTION_INTERVAL_SECONDS as number,
      exportDir:
        (v.AUDIT_EXPORT_DIR as string | undefined) ??
        join(v.ENCLAVE_DATA_DIR as string, 'audit', 'exports'),
      siem: siemConfig(v),
    },
    llmSim: {
      models: v.LLM_SIM_MODELS as string[],
      ttftMs: v.LLM_SIM_TTFT_MS as number,
      tokensPerSec: v.LLM_SIM_TOKENS_PER_SEC as number,
      replyTokens: v.LLM_SIM_REPLY_TOKENS as number,
      errorRate: v.LLM_SIM_ERROR_RATE as number,
      errorStatus: v.LLM_SIM_ERROR_STATUS as number,
      stallRate: v.LLM_SIM_STALL_RATE as number,
      stallMs: v.LLM_SIM_STALL_MS as number,
      dropRate: v.LLM_SIM_DROP_RATE as number,
      dropAfterTokens: v.LLM_SIM_DROP_AFTER_TOKENS as number,
    },
  };
}

/** The name of the signing key's systemd credential (`LoadCredential=audit-signing-key:<path>`). */
export const SIGNING_KEY_CREDENTIAL = 'audit-signing-key';

/**
 * A credential systemd handed this unit (in $CREDENTIALS_DIRECTORY, readable by the unit alone),
 * or undefined when the unit has none of that name: the signing key reaches the audit app this
 * way without the file being readable by the user the other apps run as.
 */
function credentialFile(dir: string | undefined, name: string): string | undefined {
  if (!dir) return undefined;
  const path = join(dir, name);
  return existsSync(path) ? path : undefined;
}

/** SIEM forwarding, or null when AUDIT_SIEM_URL is unset; checks the keys that go together. */
function siemConfig(v: Values): Config['audit']['siem'] {
  const raw = v.AUDIT_SIEM_URL as string | undefined;
  const caFile = (v.AUDIT_SIEM_CA_FILE as string | undefined) ?? null;
  if (!raw) {
    if (caFile)
      throw new ConfigError(
        'AUDIT_SIEM_CA_FILE',
        'config: AUDIT_SIEM_CA_FILE is set but AUDIT_SIEM_URL is not; expected both (tls://host:port and the CA file) or neither',
      );
    return null;
  }
  const url = new URL(raw);
  const tls = url.protocol === 'tls:';
  if (caFile && !tls) {
    throw new ConfigError(
      'AUDIT_SIEM_CA_FILE',
      `config: AUDIT_SIEM_CA_FILE is set but AUDIT_SIEM_URL=${JSON.stringify(raw)} is plain TCP; expected a tls:// URL with a CA file`,
    );
  }
  if (caFile) {
    try {
      readFileSync(caFile);
    } catch (err) {
      const reason =
        (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(err);
      throw new ConfigError(
        'AUDIT_SIEM_CA_FILE',
        `config: AUDIT_SIEM_CA_FILE=${JSON.stringify(caFile)} cannot be read (${reason}); expected the path of a PEM file of CA certificates`,
      );
    }
  }
  return {
    url: raw,
    tls,
    // URL keeps IPv6 literals in brackets; sockets want them bare.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : tls ? 6514 : 514,
    caFile,
    hostname: (v.AUDIT_SIEM_HOSTNAME as string | undefined) ?? hostname(),
    appName: v.AUDIT_SIEM_APP_NAME as string,
    maxMessageBytes: v.AUDIT_SIEM_MAX_MESSAGE_BYTES as number,
    settleMs: v.AUDIT_SIEM_SETTLE_MS as number,
  };
}

/**
 * For a process entry point: the config, or one line on stderr and exit code 78 (EX_CONFIG, which
 * systemd units list in RestartPreventExitStatus so a typo does not restart-loop).
 */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      // Under systemd (stdout and stderr are the journal) one JSON line at priority "err", like
      // every other log line; on a terminal, a sentence.
      process.stderr.write(
        env.JOURNAL_STREAM
          ? `<3>${JSON.stringify({ level: 50, time: Date.now(), pid: process.pid, code: 'config_invalid', key: err.key, msg: err.message })}\n`
          : `enclave: ${err.message}\n`,
      );
      process.exit(78);
    }
    throw err;
  }
}
