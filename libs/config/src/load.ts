import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parse as parseEnvFile } from 'dotenv';
import { KEYS, type ConfigKey, type ConfigValues, type KeySpec } from './keys.js';

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

/**
 * The typed configuration the apps read: shaped by `toConfig()` from the keys' parsed values,
 * so every type comes from a key's zod schema in keys.ts.
 */
export type Config = ReturnType<typeof toConfig>;
export type OidcConfig = NonNullable<Config['auth']['oidc']>;

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
  const values = {} as Record<ConfigKey, unknown>;
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
  // Each value is its key's schema output, or undefined when unset without a default.
  return toConfig(values as ConfigValues, configFile, env.CREDENTIALS_DIRECTORY);
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
function toOidcConfig(v: ConfigValues) {
  const issuer = v.ENCLAVE_OIDC_ISSUER;
  if (issuer === undefined) {
    if (v.ENCLAVE_LOCAL_LOGIN === false) {
      throw new ConfigError(
        'ENCLAVE_LOCAL_LOGIN',
        'config: ENCLAVE_LOCAL_LOGIN=false needs single sign-on (ENCLAVE_OIDC_ISSUER), or nobody could sign in',
      );
    }
    return null;
  }
  const needed = <
    K extends 'ENCLAVE_OIDC_CLIENT_ID' | 'ENCLAVE_PUBLIC_URL' | 'ENCLAVE_OIDC_ROLE_MAP',
  >(
    key: K,
  ): NonNullable<ConfigValues[K]> => {
    const value = v[key];
    if (value === undefined || value === null) {
      throw new ConfigError(
        key,
        `config: ${key} is unset; single sign-on (ENCLAVE_OIDC_ISSUER) needs it: ${KEYS[key].expected}`,
      );
    }
    return value;
  };
  const clientId = needed('ENCLAVE_OIDC_CLIENT_ID');
  const publicUrl = needed('ENCLAVE_PUBLIC_URL');
  const roleMap = needed('ENCLAVE_OIDC_ROLE_MAP');
  return {
    issuer,
    clientId,
    /** null: a public client (PKCE only). */
    clientSecret: v.ENCLAVE_OIDC_CLIENT_SECRET ?? null,
    /** `${publicUrl}/api/auth/oidc/callback`, registered at the provider. */
    redirectUri: `${publicUrl}/api/auth/oidc/callback`,
    roleClaim: v.ENCLAVE_OIDC_ROLE_CLAIM,
    /** Claim value → role name (user, auditor or admin). */
    roleMap,
    /** Claim value → group names; null: sign-in does not change memberships. */
    groupMap: v.ENCLAVE_OIDC_GROUP_MAP ?? null,
    label: v.ENCLAVE_OIDC_LABEL,
  };
}

function toConfig(v: ConfigValues, configFile: string | null, credentialsDir?: string) {
  const llmSimPort = v.LLM_SIM_PORT;
  const upstreamUrl = v.ENCLAVE_UPSTREAM_URL;
  return {
    host: v.ENCLAVE_HOST,
    ports: {
      chat: v.CHAT_PORT,
      admin: v.ADMIN_PORT,
      audit: v.AUDIT_PORT,
      llmSim: llmSimPort,
    },
    logLevel: v.LOG_LEVEL,
    shutdownTimeoutMs: v.ENCLAVE_SHUTDOWN_TIMEOUT_MS,
    /** Where the values came from, for the start-up log line. */
    configFile,
    database: {
      /** Unset means the embedded database, reached at embeddedPort. */
      url: v.DATABASE_URL ?? null,
      /** Patroni REST APIs naming the leader (ENCLAVE_PATRONI_URLS); empty: not under Patroni. */
      patroniUrls: (v.ENCLAVE_PATRONI_URLS ?? '')
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean),
      poolSize: v.DATABASE_POOL_SIZE,
      migrateOnStart: v.ENCLAVE_MIGRATE_ON_START,
      dataDir: v.ENCLAVE_DATA_DIR,
      embeddedPort: v.ENCLAVE_EMBEDDED_DB_PORT,
    },
    upstream: {
      url: upstreamUrl ?? `http://127.0.0.1:${llmSimPort}/v1`,
      apiKey: v.ENCLAVE_UPSTREAM_API_KEY ?? null,
      isBundledSimulator: upstreamUrl === undefined,
      timeoutMs: v.ENCLAVE_UPSTREAM_TIMEOUT_MS,
      healthIntervalMs: v.ENCLAVE_HEALTH_INTERVAL_MS,
    },
    /** 32 bytes, or null: then libs/llm keeps one in ENCLAVE_DATA_DIR/master.key. */
    masterKey: v.ENCLAVE_MASTER_KEY ? Buffer.from(v.ENCLAVE_MASTER_KEY, 'base64') : null,
    http: { maxBodyBytes: v.ENCLAVE_MAX_BODY_MB * 1024 * 1024 },
    /** Completion records: the local spool for database outages, and the reconciler's deadline. */
    records: {
      spoolMaxBytes: v.ENCLAVE_SPOOL_MAX_MB * 1024 * 1024,
      completionDeadlineMs: v.ENCLAVE_COMPLETION_DEADLINE_S * 1000,
    },
    cache: {
      scope: v.ENCLAVE_CACHE_SCOPE,
      ttlSeconds: v.ENCLAVE_CACHE_TTL_SECONDS,
      maxEntries: v.ENCLAVE_CACHE_MAX_ENTRIES,
    },
    /** Prices, costs and money budgets (issue 20). */
    billing: { currency: v.ENCLAVE_CURRENCY, budgetWarnShare: v.ENCLAVE_BUDGET_WARN_SHARE },
    /** Where users reach Enclave (origin only), or null when not configured. */
    publicUrl: v.ENCLAVE_PUBLIC_URL ?? null,
    /** Backend hosts an admin may add although link-local or metadata addresses (lower case). */
    backendAllowedHosts: v.ENCLAVE_BACKEND_ALLOWED_HOSTS ?? [],
    /** token null: /metrics answers loopback callers only. */
    metrics: { token: v.ENCLAVE_METRICS_TOKEN ?? null },
    auth: {
      sessionTtlHours: v.AUTH_SESSION_TTL_HOURS,
      /** Progressive delays after failed sign-ins, per account and per client address. */
      signIn: {
        accountFreeFailures: v.AUTH_SIGNIN_FREE_FAILURES,
        clientFreeFailures: v.AUTH_SIGNIN_CLIENT_FREE_FAILURES,
        maxDelaySeconds: v.AUTH_SIGNIN_MAX_DELAY_SECONDS,
      },
      /** Requests per minute per client address without valid credentials; 0: unlimited. */
      anonymousRatePerMinute: v.ENCLAVE_ANONYMOUS_RATE_PER_MINUTE,
      /** Anonymous refusals from one address make one audit event per window; 0: one each. */
      denialWindowSeconds: v.AUDIT_DENIAL_WINDOW_SECONDS,
      /** Email + password sign-in (POST /api/auth/login). */
      localLogin: v.ENCLAVE_LOCAL_LOGIN,
      /** Single sign-on, or null when ENCLAVE_OIDC_ISSUER is unset. */
      oidc: toOidcConfig(v),
    },
    audit: {
      signingKeyFile:
        credentialFile(credentialsDir, SIGNING_KEY_CREDENTIAL) ??
        v.AUDIT_SIGNING_KEY_FILE ??
        join(v.ENCLAVE_DATA_DIR, 'audit', 'signing-key.pem'),
      keyringFile: v.AUDIT_KEYRING_FILE ?? join(v.ENCLAVE_DATA_DIR, 'audit', 'keyring.json'),
      checkpointEvery: v.AUDIT_CHECKPOINT_EVERY,
      checkpointSeconds: v.AUDIT_CHECKPOINT_SECONDS,
      sealIntervalMs: v.AUDIT_SEAL_INTERVAL_MS,
      unsealedAlertSeconds: v.AUDIT_UNSEALED_ALERT_SECONDS,
      retentionIntervalSeconds: v.AUDIT_RETENTION_INTERVAL_SECONDS,
      exportDir: v.AUDIT_EXPORT_DIR ?? join(v.ENCLAVE_DATA_DIR, 'audit', 'exports'),
      /** SIEM forwarding (AUDIT_SIEM_*); null: off. */
      siem: siemConfig(v),
    },
    llmSim: {
      models: v.LLM_SIM_MODELS,
      ttftMs: v.LLM_SIM_TTFT_MS,
      tokensPerSec: v.LLM_SIM_TOKENS_PER_SEC,
      replyTokens: v.LLM_SIM_REPLY_TOKENS,
      errorRate: v.LLM_SIM_ERROR_RATE,
      errorStatus: v.LLM_SIM_ERROR_STATUS,
      stallRate: v.LLM_SIM_STALL_RATE,
      stallMs: v.LLM_SIM_STALL_MS,
      dropRate: v.LLM_SIM_DROP_RATE,
      dropAfterTokens: v.LLM_SIM_DROP_AFTER_TOKENS,
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
function siemConfig(v: ConfigValues) {
  const raw = v.AUDIT_SIEM_URL;
  const caFile = v.AUDIT_SIEM_CA_FILE ?? null;
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
    /** AUDIT_SIEM_URL as configured: also the key of the forwarder's cursor. */
    url: raw,
    tls,
    // URL keeps IPv6 literals in brackets; sockets want them bare.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : tls ? 6514 : 514,
    caFile,
    hostname: v.AUDIT_SIEM_HOSTNAME ?? hostname(),
    appName: v.AUDIT_SIEM_APP_NAME,
    maxMessageBytes: v.AUDIT_SIEM_MAX_MESSAGE_BYTES,
    settleMs: v.AUDIT_SIEM_SETTLE_MS,
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
