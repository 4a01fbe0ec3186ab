// The admin API as the console uses it. Fetching, the CSRF token, the error shape and the
// session endpoints are the shared core's (libs/web, as in the chat UI); this file adds the
// admin endpoints. Shapes follow the API's answers.
import { createApiClient } from '@enclave/web';

export { ApiFailure } from '@enclave/web';

export type Role = 'user' | 'auditor' | 'admin';

export interface Me {
  id: string;
  email: string;
  role: Role;
}

export interface User {
  id: string;
  email: string;
  displayName: string | null;
  role: Role;
  disabledAt: string | null;
  lockedUntil: string | null;
  createdAt: string;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  models: string[] | null;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
}

export interface BackendHealth {
  name: string;
  baseUrl: string;
  enabled: boolean;
  /** null: this instance has not checked the backend yet. */
  healthy: boolean | null;
  /** From active checks and every chat process's real traffic; null: not checked yet. */
  state?: 'healthy' | 'degraded' | 'unhealthy' | null;
  circuitOpen: boolean | null;
  models?: string[];
  lastError: string | null;
  lastCheckedAt: string | null;
}

export interface Backend {
  id: string;
  name: string;
  baseUrl: string;
  hasApiKey: boolean;
  models: string[] | null;
  weight: number;
  maxConcurrent: number;
  timeoutMs: number;
  enabled: boolean;
  health: BackendHealth | null;
}

export interface BackendInput {
  name?: string;
  baseUrl?: string;
  apiKey?: string | null;
  models?: string[] | null;
  weight?: number;
  maxConcurrent?: number;
  timeoutMs?: number;
  enabled?: boolean;
}

export type QuotaScope = 'default_user' | 'default_key' | 'user' | 'api_key';

export interface Quota {
  scope: QuotaScope;
  subjectId: string | null;
  requestsPerMinute: number | null;
  tokensPerDay: number | null;
  tokensPerMonth: number | null;
}

export interface Policies {
  auditContent: 'none' | 'metadata' | 'full';
  auditRetentionDays: { default: number | null; byKind: Record<string, number> };
  messageRetentionDays: number | null;
  cacheScope: 'user' | 'global' | 'off';
  defaultSystemPrompt: string;
}

export interface MinuteStats {
  requests: number;
  errors: number;
  cacheHits: number;
  promptTokens: number;
  completionTokens: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  ttftP50Ms: number | null;
  ttftP95Ms: number | null;
}

export interface Dashboard {
  minutes: number;
  series: (MinuteStats & { minute: string })[];
  totals: MinuteStats;
  backends: BackendHealth[];
  replication: {
    name: string;
    clientAddr: string | null;
    state: string;
    syncState: string;
    replayLagSeconds: number | null;
  }[];
}

export interface ConversationSummary {
  id: string;
  title: string;
  userId: string;
  userEmail: string;
  model: string | null;
  messageCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface OpenedConversation {
  conversation: ConversationSummary;
  messages: {
    id: string;
    role: string;
    content: string;
    model: string | null;
    outcome: string | null;
    createdAt: string;
  }[];
}

export interface FeedbackItem {
  id: string;
  messageId: string;
  conversationId: string;
  userId: string;
  userEmail: string;
  rating: 'up' | 'down';
  comment: string | null;
  model: string | null;
  backend: string | null;
  createdAt: string;
}

export interface AuditEvent {
  position: string | number | null;
  id: string;
  occurredAt: string;
  actor: unknown;
  action: string;
  target: unknown;
  outcome: string;
  sourceIp?: string | null;
  requestId?: string | null;
  payload: unknown;
  redacted: boolean;
}

export interface AuditStatus {
  sealedEvents: number;
  unsealedEvents: number;
  oldestUnsealedSeconds: number | null;
  head: { position: string | number; hash: string } | null;
  lastCheckpoint: { position: string | number; hash: string; signedAt: string } | null;
}

export interface AuditVerification {
  ok: boolean;
  checkedEvents: number;
  firstBad: { position: string | number; problem: string; message?: string } | null;
}

export type ExportStatus = 'pending' | 'running' | 'done' | 'failed';

export interface AuditExport {
  id: string;
  status: ExportStatus;
  format: 'jsonl' | 'csv';
  filter: Record<string, unknown>;
  events: number | null;
  dataSha256: string | null;
  error: string | null;
  createdAt: string;
  createdBy: unknown;
}

export interface AuditFilter {
  from?: string;
  to?: string;
  actor?: string;
  action?: string;
}

export interface LegalHold {
  id: string;
  userId: string | null;
  userEmail: string | null;
  from: string | null;
  to: string | null;
  reason: string;
  createdBy: string | null;
  createdAt: string;
  releasedAt: string | null;
  releasedBy: string | null;
  active: boolean;
}

export interface ErasureResult {
  userId: string;
  auditEvents: number;
  messages: number;
  conversations: number;
  feedbackComments: number;
  erasedAt: string;
}

/** The console's client: the shared core (libs/web) with the console's own wording. */
export const client = createApiClient<Me>({
  connectionLostMessage: 'Enclave cannot be reached; check your network.',
});
const call = client.call;

/** `?a=1&b=2` from the given values, leaving out empty ones. */
function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

const enc = encodeURIComponent;
const A = '/api/admin';

export const api = {
  signOut: client.auth.signOut,

  dashboard: (minutes: number) => call<Dashboard>('GET', `${A}/dashboard${query({ minutes })}`),

  users: () => call<{ data: User[] }>('GET', `${A}/users`),
  user: (id: string) => call<User>('GET', `${A}/users/${enc(id)}`),
  createUser: (body: {
    email: string;
    role: Role;
    password?: string | null;
    displayName?: string | null;
  }) => call<{ user: User; generatedPassword: string | null }>('POST', `${A}/users`, body),
  updateUser: (id: string, body: { role?: Role; disabled?: boolean }) =>
    call<User>('PATCH', `${A}/users/${enc(id)}`, body),
  resetPassword: (id: string) =>
    call<{ generatedPassword: string }>('POST', `${A}/users/${enc(id)}/reset-password`),
  keys: (userId: string) => call<{ data: ApiKey[] }>('GET', `${A}/users/${enc(userId)}/keys`),
  createKey: (
    userId: string,
    body: { name: string; models?: string[] | null; expiresIn?: string | null },
  ) => call<{ key: string; apiKey: ApiKey }>('POST', `${A}/users/${enc(userId)}/keys`, body),
  revokeKey: (prefix: string) => call<void>('DELETE', `${A}/keys/${enc(prefix)}`),

  backends: () => call<Backend[]>('GET', `${A}/backends`),
  createBackend: (body: BackendInput) => call<Backend>('POST', `${A}/backends`, body),
  updateBackend: (id: string, body: BackendInput) =>
    call<Backend>('PATCH', `${A}/backends/${enc(id)}`, body),
  deleteBackend: (id: string) => call<void>('DELETE', `${A}/backends/${enc(id)}`),
  testBackend: (id: string) => call<BackendHealth | null>('POST', `${A}/backends/${enc(id)}/test`),
  aliases: () => call<{ data: { alias: string; model: string }[] }>('GET', `${A}/aliases`),
  setAlias: (alias: string, model: string) =>
    call<void>('PUT', `${A}/aliases/${enc(alias)}`, { model }),
  deleteAlias: (alias: string) => call<void>('DELETE', `${A}/aliases/${enc(alias)}`),

  quotas: () => call<Quota[]>('GET', `${A}/quotas`),
  setQuota: (q: Quota) => call<Quota>('PUT', `${A}/quotas`, q),
  deleteQuota: (scope: QuotaScope, subjectId: string | null) =>
    call<void>('DELETE', `${A}/quotas${query({ scope, subjectId })}`),

  policies: () => call<Policies>('GET', `${A}/policies`),
  updatePolicies: (change: Partial<Policies>) => call<Policies>('PATCH', `${A}/policies`, change),

  conversations: (q: string, before: string | null) =>
    call<{ data: ConversationSummary[]; nextBefore: string | null }>(
      'GET',
      `${A}/conversations${query({ q, before, limit: 50 })}`,
    ),
  openConversation: (id: string, reason: string) =>
    call<OpenedConversation>('POST', `${A}/conversations/${enc(id)}/open`, { reason }),

  feedback: (
    f: { rating?: string; model?: string; from?: string; to?: string },
    cursor: string | null,
  ) =>
    call<{ data: FeedbackItem[]; nextCursor: string | null }>(
      'GET',
      `${A}/feedback${query({ ...f, cursor, limit: 100 })}`,
    ),

  auditEvents: (f: AuditFilter, before: string | null) =>
    call<{ data: AuditEvent[]; nextBefore: string | null }>(
      'GET',
      `${A}/audit/events${query({ ...f, before, limit: 100 })}`,
    ),
  auditStatus: () => call<AuditStatus>('GET', `${A}/audit/status`),
  verifyAudit: () => call<AuditVerification>('POST', `${A}/audit/verify`),
  exports: () => call<{ data: AuditExport[] }>('GET', `${A}/audit/exports`),
  createExport: (body: AuditFilter & { format: 'jsonl' | 'csv' }) =>
    call<AuditExport>('POST', `${A}/audit/exports`, body),
  holds: () => call<{ data: LegalHold[] }>('GET', `${A}/audit/holds`),
  createHold: (body: { userId?: string; from?: string; to?: string; reason: string }) =>
    call<LegalHold>('POST', `${A}/audit/holds`, body),
  releaseHold: (id: string) => call<LegalHold>('POST', `${A}/audit/holds/${enc(id)}/release`),
  erase: (userId: string, reason: string) =>
    call<ErasureResult>('POST', `${A}/audit/erasures`, { userId, reason }),
  exportFileUrl: (id: string, file: 'data' | 'manifest' | 'links') =>
    `${A}/audit/exports/${enc(id)}/${file}`,
};
