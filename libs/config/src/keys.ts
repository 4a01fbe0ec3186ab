import { z } from 'zod';

/**
 * Every configuration key Enclave reads, with its default and meaning. The README's configuration
 * table is checked against this list by a test, so a key added here must be documented there.
 */
export interface KeySpec {
  schema: z.ZodType;
  /** Raw default, as it would be written in the env file; undefined means "unset". */
  default?: string;
  /** What is accepted, in words, for the one-line error. */
  expected: string;
  doc: string;
}

const port = (def: number, doc: string): KeySpec => ({
  schema: z.coerce.number().int().min(1).max(65535),
  default: String(def),
  expected: 'a whole number from 1 to 65535',
  doc,
});

const wholeNumber = (
  def: number,
  doc: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): KeySpec => ({
  schema: z.coerce.number().int().min(min).max(max),
  default: String(def),
  expected: `a whole number from ${min} to ${max}`,
  doc,
});

const share = (doc: string): KeySpec => ({
  schema: z.coerce.number().min(0).max(1),
  default: '0',
  expected: 'a number from 0 to 1 (0.3 means 30% of requests)',
  doc,
});

const flag = (def: boolean, doc: string): KeySpec => ({
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

const httpUrl = (doc: string): KeySpec => ({
  schema: z.url({ protocol: /^https?$/ }),
  expected: 'an http:// or https:// URL',
  doc,
});

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
    schema: z.url({ protocol: /^postgres(ql)?$/ }),
    expected: 'a postgres://user:password@host:port/database URL',
    doc: 'The Postgres primary. Unset: an embedded Postgres (PGlite) keeping its data in ENCLAVE_DATA_DIR.',
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
  ENCLAVE_UPSTREAM_TIMEOUT_MS: wholeNumber(
    60_000,
    'How long the upstream may take to start answering (first byte) before the request fails with 504.',
    100,
    3_600_000,
  ),
  ENCLAVE_MAX_BODY_MB: wholeNumber(
    4,
    'Largest request body accepted; larger ones get 413 request_too_large.',
    1,
    1_024,
  ),
  AUTH_SESSION_TTL_HOURS: wholeNumber(12, 'How long a sign-in session lasts.', 1, 24 * 90),
  AUTH_LOCKOUT_THRESHOLD: wholeNumber(
    5,
    'Failed sign-ins in a row that lock an account.',
    1,
    1_000,
  ),
  AUTH_LOCKOUT_MINUTES: wholeNumber(15, 'How long a locked account stays locked.', 1, 10_080),
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
export const KEYS: Readonly<Record<ConfigKey, KeySpec>> = keys;
