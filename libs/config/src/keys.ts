import { Role } from '@enclave/contracts';
import { z } from 'zod';

/**
 * Every configuration key Enclave reads, with its default and meaning. The README's configuration
 * table is checked against this list by a test, so a key added here must be documented there.
 */
export interface KeySpec<S extends z.ZodType = z.ZodType> {
  /** Parses the raw text; its output type is the value's type in the config (load.ts). */
  schema: S;
  /** Raw default, as it would be written in the env file; undefined means "unset". */
  default?: string;
  /** What is accepted, in words, for the one-line error. */
  expected: string;
  doc: string;
}

const port = (def: number, doc: string) => ({
  schema: z.coerce.number().int().min(1).max(65535),
  default: String(def),
  expected: 'a whole number from 1 to 65535',
  doc,
});

const wholeNumber = (def: number, doc: string, min = 0, max = Number.MAX_SAFE_INTEGER) => ({
  schema: z.coerce.number().int().min(min).max(max),
  default: String(def),
  expected: `a whole number from ${min} to ${max}`,
  doc,
});

const share = (doc: string) => ({
  schema: z.coerce.number().min(0).max(1),
  default: '0',
  expected: 'a number from 0 to 1 (0.3 means 30% of requests)',
  doc,
});

const flag = (def: boolean, doc: string) => ({
  schema: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off']))
    .transform((v) => ['true', '1', 'yes', 'on'].includes(v)),
  default: String(def),
  expected: 'true or false',
  doc,
});

const httpUrl = (doc: string) => ({
  schema: z.url({ protocol: /^https?$/ }),
  expected: 'an http:// or https:// URL',
  doc,
});

/** postgres://[user[:password]@]host[:port][,host[:port]…][/database][?params] (libpq's multi-host form). */
function isPostgresUrl(value: string): boolean {
  const m = /^postgres(?:ql)?:\/\/(?:[^@/?#]*@)?([^/?#]*)(?:[/?].*)?$/.exec(value);
  if (!m) return false;
  if (m[1] === '') return URL.canParse(value); // a Unix socket given as ?host=/path
  return m[1]!.split(',').every((h) => h !== '' && URL.canParse(`postgres://${h}`));
}

/** Comma-separated http(s) base URLs (Patroni's REST APIs), each with a host and nothing after the port. */
function isHttpUrlList(value: string): boolean {
  return value.split(',').every((entry) => {
    const v = entry.trim();
    if (!URL.canParse(v)) return false;
    const url = new URL(v);
    return /^https?:$/.test(url.protocol) && !!url.hostname && !url.username && !url.search;
  });
}

/** Why an AUDIT_SIEM_URL is not usable, or null: tcp:// or tls://, a host, an optional port, nothing else. */
export function siemUrlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'not a URL';
  }
  if (url.protocol !== 'tcp:' && url.protocol !== 'tls:') return 'the scheme must be tcp or tls';
  if (!url.hostname) return 'no host';
  if (
    url.username ||
    url.password ||
    (url.pathname && url.pathname !== '/') ||
    url.search ||
    url.hash
  )
    return 'only a host and a port are allowed';
  return null;
}

const keys = {
  ENCLAVE_HOST: {
    schema: z.string().trim().min(1),
    default: '127.0.0.1',
    expected: 'an IP address or host name to bind to',
    doc: 'Address the HTTP servers listen on. Keep loopback behind nginx.',
  },
  CHAT_PORT: port(8080, 'Port of the chat app (OpenAI-compatible API and chat UI).'),
  ADMIN_PORT: port(8081, 'Port of the admin app (admin API and console).'),
  AUDIT_PORT: port(8082, 'Port of the audit app (sealer, exports).'),
  LOG_LEVEL: {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
    expected: 'one of fatal, error, warn, info, debug, trace, silent',
    doc: 'Minimum level of the JSON logs written to stdout.',
  },
  ENCLAVE_SHUTDOWN_TIMEOUT_MS: wholeNumber(
    10_000,
    'On SIGTERM, how long in-flight requests may take to finish before connections are cut.',
    0,
    600_000,
  ),
  DATABASE_URL: {
    schema: z.string().trim().refine(isPostgresUrl, 'not a postgres:// URL'),
    expected:
      'a postgres://user:password@host:port/database URL (several hosts: host1:port,host2:port)',
    doc: 'The Postgres server, or primary and standbys as `host1:5432,host2:5432`: Enclave writes to whichever is primary, also after a failover. Unset: the embedded PostgreSQL that `npm start` runs, data in ENCLAVE_DATA_DIR/postgres.',
  },
  ENCLAVE_PATRONI_URLS: {
    schema: z.string().trim().refine(isHttpUrlList, 'not a list of http(s) URLs'),
    expected: 'comma-separated Patroni REST API URLs, e.g. http://db1:8008,http://db2:8008',
    doc: "Patroni's REST API on every Postgres node. Set: writes go only to the node Patroni names as leader (`GET /primary` 200 on exactly one node, `/cluster` agreeing), whatever hosts DATABASE_URL lists; no leader or two claimants answer 503 `database_unavailable`.",
  },
  DATABASE_POOL_SIZE: wholeNumber(10, 'Connections each process keeps to Postgres.', 1, 500),
  ENCLAVE_MIGRATE_ON_START: flag(
    true,
    'Apply pending migrations when an app starts (under an advisory lock). Otherwise run `enclave migrate`.',
  ),
  ENCLAVE_DATA_DIR: {
    schema: z.string().trim().min(1),
    default: './data',
    expected: 'a directory path',
    doc: 'Where local state lives (the embedded database when DATABASE_URL is unset).',
  },
  ENCLAVE_EMBEDDED_DB_PORT: port(
    5433,
    'Loopback port on which the embedded database is served to the apps (DATABASE_URL unset).',
  ),
  ENCLAVE_UPSTREAM_URL: httpUrl(
    'Base URL of the OpenAI-compatible LLM server (e.g. http://gpu1:8000/v1). Unset: the bundled simulator on LLM_SIM_PORT.',
  ),
  ENCLAVE_MASTER_KEY: {
    schema: z
      .string()
      .trim()
      .refine((v) => Buffer.from(v, 'base64').length === 32, 'not 32 bytes of base64'),
    expected: '32 random bytes in base64 (openssl rand -base64 32)',
    doc: 'Encrypts secrets at rest (upstream API keys). Unset: a key generated once into ENCLAVE_DATA_DIR/master.key.',
  },
  ENCLAVE_HEALTH_INTERVAL_MS: wholeNumber(
    5_000,
    'How often each upstream backend is health-checked (GET /v1/models).',
    200,
    600_000,
  ),
  ENCLAVE_UPSTREAM_TIMEOUT_MS: wholeNumber(
    60_000,
    'Default time an upstream backend may take to start answering (first token) before Enclave tries another one (504 when none answers). Seeds the first backend; each backend has its own.',
    100,
    3_600_000,
  ),
  ENCLAVE_SPOOL_MAX_MB: wholeNumber(
    256,
    'Chat: the most the local spool (ENCLAVE_DATA_DIR/spool) may hold of completion records that could not be written while the database was away; when full, new requests get 503.',
    1,
    100_000,
  ),
  ENCLAVE_COMPLETION_DEADLINE_S: wholeNumber(
    3_600,
    'Chat: a completion still in progress after this long is closed as interrupted (with its audit event) by the reconciler, even if its process still runs.',
    10,
    604_800,
  ),
  ENCLAVE_CACHE_SCOPE: {
    schema: z.enum(['user', 'global', 'off']),
    default: 'user',
    expected: 'user, global or off',
    doc: 'Response cache for deterministic requests (temperature 0 or a seed): answers shared within one user, across all users, or not cached.',
  },
  ENCLAVE_CACHE_TTL_SECONDS: wholeNumber(
    3_600,
    'How long a cached answer is served.',
    1,
    30 * 86_400,
  ),
  ENCLAVE_CACHE_MAX_ENTRIES: wholeNumber(
    10_000,
    'Answers each chat instance keeps in memory in front of the shared Postgres cache table.',
    0,
    10_000_000,
  ),
  ENCLAVE_MAX_BODY_MB: wholeNumber(
    4,
    'Largest request body accepted; larger ones get 413 request_too_large.',
    1,
    1_024,
  ),
  ENCLAVE_METRICS_TOKEN: {
    schema: z.string().trim().min(16),
    expected: 'a secret of at least 16 characters (openssl rand -hex 32)',
    doc: 'Bearer token Prometheus sends to scrape `/metrics` on each app. Unset: `/metrics` answers only requests from loopback addresses.',
  },
  AUTH_SESSION_TTL_HOURS: wholeNumber(12, 'How long a sign-in session lasts.', 1, 24 * 90),
  AUTH_SIGNIN_FREE_FAILURES: wholeNumber(
    5,
    'Failed sign-ins to one account (known or not) answered at once; each further one doubles a wait (429 `too_many_sign_ins` with Retry-After) up to AUTH_SIGNIN_MAX_DELAY_SECONDS. No account is ever locked; a success or a password reset clears the count.',
    1,
    1_000,
  ),
  AUTH_SIGNIN_CLIENT_FREE_FAILURES: wholeNumber(
    20,
    'The same for failed sign-ins from one client address, to any accounts.',
    1,
    100_000,
  ),
  AUTH_SIGNIN_MAX_DELAY_SECONDS: wholeNumber(
    900,
    'Longest wait between sign-in attempts after repeated failures.',
    1,
    86_400,
  ),
  ENCLAVE_ANONYMOUS_RATE_PER_MINUTE: wholeNumber(
    300,
    'Requests per minute one client address may make without valid credentials (sign-in, public routes, refused requests); past it 429 `rate_limited` with Retry-After. 0: no limit.',
    0,
    1_000_000,
  ),
  AUDIT_DENIAL_WINDOW_SECONDS: wholeNumber(
    60,
    'Refused requests without valid credentials from one client address are recorded as one `auth.request.denied` event per this window, with a count. 0: one event per refusal.',
    0,
    3_600,
  ),
  ENCLAVE_BACKEND_ALLOWED_HOSTS: {
    schema: z.string().transform((v) =>
      v
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
    ),
    expected: 'host names or IP addresses separated by commas',
    doc: 'Backend hosts allowed although they are link-local or cloud metadata addresses (refused otherwise, however spelled).',
  },
  ENCLAVE_PUBLIC_URL: {
    schema: z
      .url({ protocol: /^https?$/ })
      .refine((v) => {
        const u = new URL(v);
        return (u.pathname === '/' || u.pathname === '') && !u.search && !u.hash;
      }, 'has a path, query or fragment')
      .transform((v) => new URL(v).origin),
    expected: 'the https://host[:port] users open Enclave at, without a path',
    doc: 'Where users reach Enclave (nginx). Single sign-on sends the identity provider back to `<this>/api/auth/oidc/callback`, which must be registered there as the redirect URI. Needed with ENCLAVE_OIDC_ISSUER.',
  },
  ENCLAVE_LOCAL_LOGIN: flag(
    true,
    'Sign-in with email and password. `false` leaves single sign-on as the only way to sign in (POST /api/auth/login answers 403 local_login_disabled); API keys keep working.',
  ),
  ENCLAVE_OIDC_ISSUER: {
    schema: z.url({ protocol: /^https?$/ }).refine((v) => {
      const u = new URL(v);
      return u.protocol === 'https:' || ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
    }, 'plain http is only allowed on loopback'),
    expected: 'the https:// issuer URL of the OpenID Connect provider (http:// only on loopback)',
    doc: 'Turns on single sign-on (OpenID Connect, authorization code + PKCE) with this provider; its `/.well-known/openid-configuration` is read on the first sign-in. Unset: no SSO.',
  },
  ENCLAVE_OIDC_CLIENT_ID: {
    schema: z.string().trim().min(1),
    expected: 'the client id registered at the provider',
    doc: "Enclave's client id at the OpenID provider. Needed with ENCLAVE_OIDC_ISSUER.",
  },
  ENCLAVE_OIDC_CLIENT_SECRET: {
    schema: z.string().trim().min(1),
    expected: 'the client secret registered at the provider',
    doc: "Enclave's client secret (sent with client_secret_basic). Unset: a public client (PKCE only).",
  },
  ENCLAVE_OIDC_ROLE_CLAIM: {
    schema: z.string().trim().min(1),
    default: 'groups',
    expected: 'a claim name',
    doc: 'The ID token (or userinfo) claim whose values ENCLAVE_OIDC_ROLE_MAP maps to Enclave roles: a string or a list of strings.',
  },
  ENCLAVE_OIDC_ROLE_MAP: {
    schema: z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((pair) => pair.trim())
          .filter(Boolean),
      )
      .pipe(
        z
          .array(
            z
              .string()
              .regex(/^.+:(user|auditor|admin)$/)
              .transform((pair) => {
                const at = pair.lastIndexOf(':');
                return [pair.slice(0, at).trim(), Role.parse(pair.slice(at + 1))] as const;
              }),
          )
          .min(1),
      )
      .transform((pairs) => Object.fromEntries(pairs)),
    expected: 'comma-separated claim-value:role pairs, role one of user, auditor, admin',
    doc: 'Which claim values give which role, e.g. `enclave-admins:admin,enclave-auditors:auditor,staff:user`; the highest role wins. A user with none of them is refused. Needed with ENCLAVE_OIDC_ISSUER.',
  },
  ENCLAVE_OIDC_GROUP_MAP: {
    schema: z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((pair) => pair.trim())
          .filter(Boolean),
      )
      .pipe(
        z
          .array(
            z
              .string()
              .regex(/^[^:]+.*:[^:]+$/)
              .transform((pair) => {
                const at = pair.lastIndexOf(':');
                return [pair.slice(0, at).trim(), pair.slice(at + 1).trim()] as const;
              }),
          )
          .min(1),
      )
      .transform((pairs) => {
        const map: Record<string, string[]> = {};
        for (const [value, group] of pairs) (map[value] ??= []).push(group);
        return map;
      }),
    expected: 'comma-separated claim-value:group-name pairs',
    doc: 'Which values of the ENCLAVE_OIDC_ROLE_CLAIM claim put a user in which Enclave group, e.g. `legal-staff:Legal,interns:Interns`; applied at each single sign-on (groups joined this way are left when the claim no longer gives them; memberships made by hand stay). A named group that does not exist is created. Unset: single sign-on does not change memberships.',
  },
  ENCLAVE_CURRENCY: {
    schema: z.string().regex(/^[A-Z]{3}$/),
    default: 'EUR',
    expected: 'a three-letter ISO 4217 currency code such as EUR or USD',
    doc: 'The currency of model prices, costs and money budgets (for on-premises GPUs it stands for cost allocation). Prices are stored with the currency they were set in.',
  },
  ENCLAVE_BUDGET_WARN_SHARE: {
    schema: z.coerce.number().gt(0).max(1),
    default: '0.8',
    expected: 'a number above 0 and at most 1 (0.8 means 80%)',
    doc: 'The share of a budget at which a `budget.warning` audit event is written (once per budget and period); at 100% requests are refused with 429 budget_exceeded.',
  },
  ENCLAVE_OIDC_LABEL: {
    schema: z.string().trim().min(1).max(80),
    default: 'SSO',
    expected: 'a short name (up to 80 characters)',
    doc: 'What the sign-in pages call the provider, as in "Sign in with <label>".',
  },
  AUDIT_SIGNING_KEY_FILE: {
    schema: z.string().trim().min(1),
    expected: 'a file path',
    doc: 'Ed25519 key that signs audit checkpoints and exports (`enclave audit keygen` creates it). Unset: ENCLAVE_DATA_DIR/audit/signing-key.pem. A systemd credential `audit-signing-key` (LoadCredential=, in $CREDENTIALS_DIRECTORY) wins over it.',
  },
  AUDIT_KEYRING_FILE: {
    schema: z.string().trim().min(1),
    expected: 'a file path',
    doc: 'The published keyring (public keys with validity periods) that verification trusts; see docs/audit.md. Unset: ENCLAVE_DATA_DIR/audit/keyring.json. Without the file, the signing key alone verifies.',
  },
  AUDIT_CHECKPOINT_EVERY: wholeNumber(
    1_000,
    'Audit sealer: sign a checkpoint after this many newly sealed events.',
    1,
    10_000_000,
  ),
  AUDIT_CHECKPOINT_SECONDS: wholeNumber(
    60,
    'Audit sealer: sign a checkpoint at least this often, even when nothing new was sealed.',
    1,
    86_400,
  ),
  AUDIT_SEAL_INTERVAL_MS: wholeNumber(
    250,
    'Audit sealer: pause between polls of the seal queue when it is empty (also the standby poll).',
    10,
    60_000,
  ),
  AUDIT_UNSEALED_ALERT_SECONDS: wholeNumber(
    120,
    "Log a warning when a committed audit event has waited longer than this to be sealed (the audit app's `/metrics` has `enclave_audit_unsealed_events` and `enclave_audit_oldest_unsealed_seconds`).",
    1,
    86_400,
  ),
  AUDIT_RETENTION_INTERVAL_SECONDS: wholeNumber(
    3_600,
    'Audit app: how often the active instance applies retention and creates audit partitions ahead.',
    1,
    86_400,
  ),
  AUDIT_EXPORT_DIR: {
    schema: z.string().trim().min(1),
    expected: 'a directory path',
    doc: 'Where audit exports made through the API are written. Unset: ENCLAVE_DATA_DIR/audit/exports.',
  },
  AUDIT_SIEM_URL: {
    schema: z
      .string()
      .trim()
      .refine((v) => siemUrlProblem(v) === null, {
        error: (issue) => siemUrlProblem(String(issue.input)) ?? 'invalid',
      }),
    expected: 'tcp://host[:port] (port 514 if omitted) or tls://host[:port] (6514)',
    doc: 'Forward sealed audit events to a SIEM as RFC 5424 syslog over TCP or TLS (octet-counted frames). Unset: no forwarding.',
  },
  AUDIT_SIEM_CA_FILE: {
    schema: z.string().trim().min(1),
    expected: 'the path of a PEM file of CA certificates',
    doc: "For a `tls://` AUDIT_SIEM_URL: the CA certificates that signed the receiver's certificate. Unset: the system's CAs.",
  },
  AUDIT_SIEM_HOSTNAME: {
    schema: z
      .string()
      .trim()
      .regex(/^[\x21-\x7e]{1,255}$/),
    expected: '1–255 printable ASCII characters without spaces',
    doc: "The HOSTNAME field of forwarded syslog messages. Unset: the machine's host name.",
  },
  AUDIT_SIEM_APP_NAME: {
    schema: z
      .string()
      .trim()
      .regex(/^[\x21-\x7e]{1,48}$/),
    default: 'enclave',
    expected: '1–48 printable ASCII characters without spaces',
    doc: 'The APP-NAME field of forwarded syslog messages.',
  },
  AUDIT_SIEM_SETTLE_MS: wholeNumber(
    1_000,
    'SIEM forwarding: how long a written batch must stay on an unbroken connection before it counts as delivered (TCP syslog has no acknowledgements; a longer window resends more after an outage, a shorter one trusts the receiver sooner).',
    100,
    600_000,
  ),
  AUDIT_SIEM_MAX_MESSAGE_BYTES: wholeNumber(
    8_192,
    'Largest forwarded syslog message; a longer one is sent without its payload (the payload hash stays). Match the receiver (rsyslog: maxMessageSize, default 8k).',
    1_024,
    1_048_576,
  ),
  ENCLAVE_UPSTREAM_API_KEY: {
    schema: z.string().min(1),
    expected: 'a non-empty string',
    doc: 'API key sent to the upstream, if it wants one.',
  },
  LLM_SIM_PORT: port(8090, 'Port of the bundled LLM simulator.'),
  LLM_SIM_MODELS: {
    schema: z
      .string()
      .transform((s) => s.split(',').map((m) => m.trim()))
      .pipe(z.array(z.string().regex(/^[\w.:/-]+$/)).min(1)),
    default: 'enclave-sim',
    expected: 'comma-separated model names (letters, digits, . _ : / -)',
    doc: 'Models the simulator lists in /v1/models (it answers any model name it is asked for).',
  },
  LLM_SIM_TTFT_MS: wholeNumber(0, 'Simulator: delay before the first token, in ms.', 0, 600_000),
  LLM_SIM_TOKENS_PER_SEC: wholeNumber(
    0,
    'Simulator: streaming pace; 0 sends tokens as fast as possible.',
  ),
  LLM_SIM_REPLY_TOKENS: wholeNumber(
    32,
    'Simulator: tokens in a reply (max_tokens caps it).',
    1,
    100_000,
  ),
  LLM_SIM_ERROR_RATE: share('Simulator: share of requests answered with LLM_SIM_ERROR_STATUS.'),
  LLM_SIM_ERROR_STATUS: wholeNumber(500, 'Simulator: HTTP status of injected errors.', 400, 599),
  LLM_SIM_STALL_RATE: share('Simulator: share of requests that stall before the first byte.'),
  LLM_SIM_STALL_MS: wholeNumber(
    0,
    'Simulator: how long a stall lasts before answering normally; 0 stalls until the client gives up.',
    0,
    3_600_000,
  ),
  LLM_SIM_DROP_RATE: share(
    'Simulator: share of streamed requests whose connection is dropped mid-stream.',
  ),
  LLM_SIM_DROP_AFTER_TOKENS: wholeNumber(
    4,
    'Simulator: tokens sent before a dropped stream is cut.',
    0,
    100_000,
  ),
} satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof keys;
/** Each key's value once parsed: its schema's output, or undefined when it has no default. */
export type ConfigValues = {
  [K in ConfigKey]: (typeof keys)[K] extends { schema: infer S extends z.ZodType; default: string }
    ? z.output<S>
    : (typeof keys)[K] extends { schema: infer S extends z.ZodType }
      ? z.output<S> | undefined
      : never;
};
export const KEYS: Readonly<Record<ConfigKey, KeySpec>> = keys;
