import { z } from 'zod';
import { Role } from './roles.js';
import { line, text } from './text.js';

// The admin API (`/api/admin/*`) as the console uses it: request bodies the controllers validate
// with, and the answers' shapes as JSON carries them (times as ISO strings).

/** An ISO time in an answer. */
const Time = z.string();
/** Audit positions are Postgres bigints; the driver hands them over as text. */
const Position = z.union([z.string(), z.number()]);

// --- Users and keys ------------------------------------------------------------------------

export const User = z.object({
  id: z.string(),
  email: z.string(),
  displayName: z.string().nullable(),
  role: Role,
  disabledAt: Time.nullable(),
  lockedUntil: Time.nullable(),
  passwordChangeRequired: z.boolean(),
  createdAt: Time,
});
export type User = z.infer<typeof User>;

/**
 * `POST /api/admin/users`; without a password one is generated and returned once. The service
 * checks email and password (400 `invalid_email`, `weak_password`).
 */
export const CreateUserBody = z.strictObject({
  email: line().max(320),
  role: Role,
  password: z.string().max(1024).nullable().optional(),
  displayName: line().trim().max(200).nullable().optional(),
});
export type CreateUserBody = z.infer<typeof CreateUserBody>;

export const CreatedUser = z.object({ user: User, generatedPassword: z.string().nullable() });
export type CreatedUser = z.infer<typeof CreatedUser>;

/** `PATCH /api/admin/users/:id` */
export const UpdateUserBody = z
  .strictObject({ role: Role.optional(), disabled: z.boolean().optional() })
  .refine((b) => b.role !== undefined || b.disabled !== undefined, {
    message: 'give role, disabled or both',
  });
export type UpdateUserBody = z.infer<typeof UpdateUserBody>;

export const ApiKey = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  models: z.array(z.string()).nullable(),
  expiresAt: Time.nullable(),
  revokedAt: Time.nullable(),
  lastUsedAt: Time.nullable(),
  createdAt: Time,
});
export type ApiKey = z.infer<typeof ApiKey>;

/** `POST /api/keys` and `POST /api/admin/users/:id/keys` */
export const CreateApiKeyBody = z.strictObject({
  name: line().trim().min(1).max(100),
  /** Absent or null: every model the owner may use. */
  models: z.array(line().trim().min(1).max(200)).min(1).max(100).nullable().optional(),
  /** e.g. `30d`, `12h`, `90m`; absent or null: never expires. */
  expiresIn: line().max(20).nullable().optional(),
});
export type CreateApiKeyBody = z.infer<typeof CreateApiKeyBody>;

/** The key itself is in this answer only. */
export const CreatedApiKey = z.object({ key: z.string(), apiKey: ApiKey });
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;

// --- Backends and models -------------------------------------------------------------------

export const BackendHealth = z.object({
  name: z.string(),
  baseUrl: z.string(),
  enabled: z.boolean(),
  /** null: this instance has not checked the backend yet. */
  healthy: z.boolean().nullable(),
  /** From active checks and every chat process's real traffic; null: not checked yet. */
  state: z.enum(['healthy', 'degraded', 'unhealthy']).nullable().optional(),
  circuitOpen: z.boolean().nullable(),
  models: z.array(z.string()).optional(),
  lastError: z.string().nullable(),
  lastCheckedAt: Time.nullable(),
});
export type BackendHealth = z.infer<typeof BackendHealth>;

/** A backend as stored (the answer to a create or an update); its API key is never shown. */
export const StoredBackend = z.object({
  id: z.string(),
  name: z.string(),
  baseUrl: z.string(),
  hasApiKey: z.boolean(),
  models: z.array(z.string()).nullable(),
  weight: z.number(),
  maxConcurrent: z.number(),
  timeoutMs: z.number(),
  enabled: z.boolean(),
  createdAt: Time,
  updatedAt: Time,
});
export type StoredBackend = z.infer<typeof StoredBackend>;

/** A backend in the list, with this instance's view of its health. */
export const Backend = StoredBackend.extend({ health: BackendHealth.nullable() });
export type Backend = z.infer<typeof Backend>;

const backendName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lower-case letters, digits, . _ - (max 63)');

/** `POST /api/admin/backends` */
export const CreateBackend = z.strictObject({
  name: backendName,
  baseUrl: z.url({ protocol: /^https?$/ }),
  apiKey: line().min(1).max(4096).nullable().optional(),
  models: z.array(line().min(1).max(256)).max(1000).nullable().optional(),
  weight: z.number().int().min(1).max(1000).optional(),
  maxConcurrent: z.number().int().min(1).max(100_000).optional(),
  timeoutMs: z.number().int().min(100).max(3_600_000).optional(),
  enabled: z.boolean().optional(),
});
export type CreateBackend = z.infer<typeof CreateBackend>;

/** `PATCH /api/admin/backends/:id` */
export const UpdateBackend = CreateBackend.partial().refine((b) => Object.keys(b).length > 0, {
  message: 'send at least one field to change',
});
export type UpdateBackend = z.infer<typeof UpdateBackend>;

/** `PUT /api/admin/aliases/:alias` */
export const SetAlias = z.strictObject({ model: line().min(1).max(256) });
export type SetAlias = z.infer<typeof SetAlias>;

export const ModelAlias = z.object({ alias: z.string(), model: z.string() });
export type ModelAlias = z.infer<typeof ModelAlias>;

// --- Quotas --------------------------------------------------------------------------------

export const QUOTA_SCOPES = ['default_user', 'default_key', 'user', 'api_key'] as const;
export const QuotaScope = z.enum(QUOTA_SCOPES);
export type QuotaScope = z.infer<typeof QuotaScope>;

/** Requests per minute are a Postgres integer, token counts a bigint within JS's exact range. */
const perMinute = z.number().int().positive().max(2_147_483_647).nullable();
const tokens = z.number().int().positive().max(Number.MAX_SAFE_INTEGER).nullable();

/** `PUT /api/admin/quotas` */
export const QuotaBody = z
  .strictObject({
    scope: QuotaScope,
    subjectId: z.uuid().nullable().optional(),
    requestsPerMinute: perMinute,
    tokensPerDay: tokens,
    tokensPerMonth: tokens,
  })
  .refine((q) => (q.scope.startsWith('default') ? !q.subjectId : !!q.subjectId), {
    message: 'subjectId is required for user and api_key scopes and not allowed for defaults',
    path: ['subjectId'],
  });
export type QuotaBody = z.infer<typeof QuotaBody>;

export const Quota = z.object({
  scope: QuotaScope,
  subjectId: z.string().nullable(),
  requestsPerMinute: z.number().nullable(),
  tokensPerDay: z.number().nullable(),
  tokensPerMonth: z.number().nullable(),
});
export type Quota = z.infer<typeof Quota>;

// --- Dashboard -----------------------------------------------------------------------------

export const MinuteStats = z.object({
  requests: z.number(),
  errors: z.number(),
  cacheHits: z.number(),
  promptTokens: z.number(),
  completionTokens: z.number(),
  latencyP50Ms: z.number().nullable(),
  latencyP95Ms: z.number().nullable(),
  ttftP50Ms: z.number().nullable(),
  ttftP95Ms: z.number().nullable(),
});
export type MinuteStats = z.infer<typeof MinuteStats>;

export const Dashboard = z.object({
  minutes: z.number(),
  series: z.array(MinuteStats.extend({ minute: Time })),
  totals: MinuteStats,
  backends: z.array(BackendHealth),
  replication: z.array(
    z.object({
      name: z.string(),
      clientAddr: z.string().nullable(),
      state: z.string(),
      syncState: z.string(),
      replayLagSeconds: z.number().nullable(),
    }),
  ),
});
export type Dashboard = z.infer<typeof Dashboard>;

// --- Conversations and feedback ------------------------------------------------------------

/** No title: it is content, shown only once the conversation is opened with a reason. */
export const ConversationSummary = z.object({
  id: z.string(),
  userId: z.string(),
  userEmail: z.string(),
  model: z.string().nullable(),
  messageCount: z.number(),
  createdAt: Time,
  updatedAt: Time,
});
export type ConversationSummary = z.infer<typeof ConversationSummary>;

/** `POST /api/admin/conversations/:id/open`: the reason is recorded in the audit trail. */
export const OpenConversationBody = z.strictObject({
  reason: text().trim().min(5, 'give a reason of at least 5 characters').max(1000),
});
export type OpenConversationBody = z.infer<typeof OpenConversationBody>;

export const OpenedConversation = z.object({
  conversation: ConversationSummary.extend({ title: z.string() }),
  messages: z.array(
    z.object({
      id: z.string(),
      role: z.string(),
      content: z.string(),
      model: z.string().nullable(),
      outcome: z.string().nullable(),
      createdAt: Time,
    }),
  ),
});
export type OpenedConversation = z.infer<typeof OpenedConversation>;

export const FeedbackItem = z.object({
  id: z.string(),
  messageId: z.string(),
  /** null: an answer given through the API (`/v1`), outside any conversation. */
  conversationId: z.string().nullable(),
  userId: z.string(),
  userEmail: z.string(),
  rating: z.enum(['up', 'down']),
  comment: z.string().nullable(),
  model: z.string().nullable(),
  backend: z.string().nullable(),
  createdAt: Time,
});
export type FeedbackItem = z.infer<typeof FeedbackItem>;

// --- Audit ---------------------------------------------------------------------------------

/** A day (YYYY-MM-DD, UTC) or an exact ISO time. */
export const DayOrTime = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

/** An exact action or a prefix ending in `.*`. */
export const AuditActionFilter = z
  .string()
  .regex(
    /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?$/,
    'must be an action such as auth.login.failed or a prefix such as auth.*',
  );

export const AuditEvent = z.object({
  position: Position.nullable(),
  id: z.string(),
  occurredAt: Time,
  actor: z.unknown(),
  action: z.string(),
  target: z.unknown(),
  outcome: z.string(),
  sourceIp: z.string().nullable().optional(),
  requestId: z.string().nullable().optional(),
  payload: z.unknown(),
  redacted: z.boolean(),
});
export type AuditEvent = z.infer<typeof AuditEvent>;

/** The console's search form: what `GET /api/admin/audit/events` and an export filter on. */
export interface AuditFilter {
  from?: string;
  to?: string;
  actor?: string;
  action?: string;
}

export const AuditStatus = z.object({
  sealedEvents: z.number(),
  unsealedEvents: z.number(),
  oldestUnsealedSeconds: z.number().nullable(),
  head: z.object({ position: Position, hash: z.string() }).nullable(),
  lastCheckpoint: z.object({ position: Position, hash: z.string(), signedAt: Time }).nullable(),
});
export type AuditStatus = z.infer<typeof AuditStatus>;

export const AuditVerification = z.object({
  ok: z.boolean(),
  checkedEvents: z.number(),
  /** Chain positions and signed checkpoints checked; events not yet sealed (not checked). */
  positions: z.number(),
  checkpoints: z.number(),
  unsealedEvents: z.number(),
  /** The first problem found; position null when it is not at one event (a checkpoint). */
  firstBad: z
    .object({ position: Position.nullable(), problem: z.string(), message: z.string() })
    .nullable(),
});
export type AuditVerification = z.infer<typeof AuditVerification>;

export const JobStatus = z.enum(['pending', 'running', 'done', 'failed']);

/** `POST /api/admin/audit/verifications`: a verification of the whole chain, run by the audit app. */
export const AuditVerificationJob = z.object({
  id: z.string(),
  status: JobStatus,
  createdAt: Time,
  createdBy: z.string(),
  startedAt: Time.nullable(),
  finishedAt: Time.nullable(),
  /** Chain positions walked so far (while running), or in all. */
  positionsChecked: z.number(),
  /** Set when done; `ok` false when the chain does not verify. */
  verdict: AuditVerification.nullable(),
  /** Set when the run itself failed (the database went away, say): ask again. */
  error: z.string().nullable(),
});
export type AuditVerificationJob = z.infer<typeof AuditVerificationJob>;

export const ExportFormat = z.enum(['jsonl', 'csv']);
export type ExportFormat = z.infer<typeof ExportFormat>;

/** `POST /api/admin/audit/exports` */
export const ExportBody = z.strictObject({
  format: ExportFormat,
  from: DayOrTime.optional(),
  to: DayOrTime.optional(),
  actor: z.uuid('must be a user id').optional(),
  action: AuditActionFilter.optional(),
});
export type ExportBody = z.infer<typeof ExportBody>;

export const ExportStatus = JobStatus;
export type ExportStatus = z.infer<typeof ExportStatus>;

export const AuditExport = z.object({
  id: z.string(),
  status: ExportStatus,
  format: ExportFormat,
  filter: z.record(z.string(), z.unknown()),
  events: z.number().nullable(),
  dataSha256: z.string().nullable(),
  error: z.string().nullable(),
  createdAt: Time,
  createdBy: z.unknown(),
});
export type AuditExport = z.infer<typeof AuditExport>;

/** The files of a finished export: the events, the signed manifest, the other positions' links. */
export const ExportFile = z.enum(['data', 'manifest', 'links']);
export type ExportFile = z.infer<typeof ExportFile>;

// --- Legal holds and erasure ---------------------------------------------------------------

const Reason = text().trim().min(5, 'give a reason of at least 5 characters').max(2_000);
const ExactTime = z.iso.datetime({ offset: true });

/** `POST /api/admin/audit/holds`: a user, a time range, or both. */
export const CreateHoldBody = z
  .strictObject({
    userId: z.uuid().optional(),
    from: ExactTime.optional(),
    to: ExactTime.optional(),
    reason: Reason,
  })
  .refine((b) => b.userId || b.from || b.to, {
    message: 'a hold needs a userId, a time range (from/to), or both',
  })
  .refine((b) => !b.from || !b.to || Date.parse(b.from) < Date.parse(b.to), {
    message: 'from must be before to',
    path: ['to'],
  });
export type CreateHoldBody = z.infer<typeof CreateHoldBody>;

export const LegalHold = z.object({
  id: z.string(),
  userId: z.string().nullable(),
  userEmail: z.string().nullable(),
  from: Time.nullable(),
  to: Time.nullable(),
  reason: z.string(),
  createdBy: z.string().nullable(),
  createdAt: Time,
  releasedAt: Time.nullable(),
  releasedBy: z.string().nullable(),
  active: z.boolean(),
});
export type LegalHold = z.infer<typeof LegalHold>;

/** `POST /api/admin/audit/erasures` */
export const ErasureBody = z.strictObject({ userId: z.uuid(), reason: Reason });
export type ErasureBody = z.infer<typeof ErasureBody>;

export const ErasureResult = z.object({
  userId: z.string(),
  auditEvents: z.number(),
  messages: z.number(),
  conversations: z.number(),
  feedbackComments: z.number(),
  erasedAt: Time,
});
export type ErasureResult = z.infer<typeof ErasureResult>;
