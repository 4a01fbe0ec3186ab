// The admin API as the console uses it. Fetching, the CSRF token, the error shape and the
// session endpoints are the shared core's (libs/web, as in the chat UI); this file adds the
// admin endpoints. The request and response shapes are the server's own (libs/contracts).
import type {
  ApiKey,
  AuditEvent,
  AuditExport,
  AuditFilter,
  AuditStatus,
  AuditVerificationJob,
  Backend,
  BackendHealth,
  Budget,
  BudgetBody,
  CreateGroupBody,
  Group,
  GroupDetail,
  ModelAccessBody,
  ModelEntitlements,
  ModelPrice,
  PriceBody,
  UsageReport,
  UsageDimension,
  ConversationSummary,
  CreateApiKeyBody,
  CreateBackend,
  CreatedApiKey,
  CreatedUser,
  CreateHoldBody,
  CreateUserBody,
  Dashboard,
  ErasureResult,
  ExportBody,
  ExportFile,
  FeedbackItem,
  LegalHold,
  Me,
  ModelAlias,
  OpenedConversation,
  PolicyChange,
  Preset,
  PresetBody,
  PromptTemplate,
  PromptTemplateBody,
  Quota,
  QuotaBody,
  QuotaScope,
  RuntimePolicies,
  StoredBackend,
  UpdateBackend,
  UpdateUserBody,
  User,
} from '@enclave/contracts';
import { createApiClient } from '@enclave/web';
import i18next from 'i18next';
import type { z } from 'zod';

export { ApiFailure } from '@enclave/web';
export type {
  Budget,
  Group,
  GroupDetail,
  ModelEntitlement,
  ModelEntitlements,
  UsageDimension,
  UsageReport,
  ApiKey,
  AuditEvent,
  AuditExport,
  AuditFilter,
  AuditVerificationJob,
  Backend,
  BackendHealth,
  ConversationSummary,
  CreateBackend,
  Dashboard,
  ErasureResult,
  FeedbackItem,
  LegalHold,
  Me,
  MinuteStats,
  OpenedConversation,
  Preset,
  PromptTemplate,
  Quota,
  QuotaScope,
  Role,
  RuntimePolicies,
  UpdateBackend,
  User,
} from '@enclave/contracts';

/** The console's client: the shared core (libs/web) with the console's own wording. */
export const client = createApiClient<Me>({
  connectionLostMessage: () => i18next.t('connectionLost'),
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

/** A usage report's query: dimension, whole UTC days, optional filters. */
export interface UsageFilter {
  by: UsageDimension;
  from: string;
  to: string;
  groupId?: string;
  userId?: string;
  model?: string;
}
/** What a request may send: the schema's input (before defaults and transforms). */
type Body<S extends z.ZodType> = z.input<S>;
const A = '/api/admin';

export const api = {
  signOut: client.auth.signOut,

  dashboard: (minutes: number) => call<Dashboard>('GET', `${A}/dashboard${query({ minutes })}`),

  users: () => call<{ data: User[] }>('GET', `${A}/users`),
  user: (id: string) => call<User>('GET', `${A}/users/${enc(id)}`),
  createUser: (body: Body<typeof CreateUserBody>) => call<CreatedUser>('POST', `${A}/users`, body),
  updateUser: (id: string, body: Body<typeof UpdateUserBody>) =>
    call<User>('PATCH', `${A}/users/${enc(id)}`, body),
  resetPassword: (id: string) =>
    call<{ generatedPassword: string }>('POST', `${A}/users/${enc(id)}/reset-password`),
  keys: (userId: string) => call<{ data: ApiKey[] }>('GET', `${A}/users/${enc(userId)}/keys`),
  createKey: (userId: string, body: Body<typeof CreateApiKeyBody>) =>
    call<CreatedApiKey>('POST', `${A}/users/${enc(userId)}/keys`, body),
  revokeKey: (prefix: string) => call<void>('DELETE', `${A}/keys/${enc(prefix)}`),

  backends: () => call<Backend[]>('GET', `${A}/backends`),
  createBackend: (body: Body<typeof CreateBackend>) =>
    call<StoredBackend>('POST', `${A}/backends`, body),
  updateBackend: (id: string, body: Body<typeof UpdateBackend>) =>
    call<StoredBackend>('PATCH', `${A}/backends/${enc(id)}`, body),
  deleteBackend: (id: string) => call<void>('DELETE', `${A}/backends/${enc(id)}`),
  testBackend: (id: string) => call<BackendHealth | null>('POST', `${A}/backends/${enc(id)}/test`),
  aliases: () => call<{ data: ModelAlias[] }>('GET', `${A}/aliases`),
  setAlias: (alias: string, model: string) =>
    call<void>('PUT', `${A}/aliases/${enc(alias)}`, { model }),
  deleteAlias: (alias: string) => call<void>('DELETE', `${A}/aliases/${enc(alias)}`),

  quotas: () => call<Quota[]>('GET', `${A}/quotas`),
  setQuota: (q: Body<typeof QuotaBody>) => call<Quota>('PUT', `${A}/quotas`, q),
  deleteQuota: (scope: QuotaScope, subjectId: string | null) =>
    call<void>('DELETE', `${A}/quotas${query({ scope, subjectId })}`),

  groups: () => call<{ data: Group[] }>('GET', `${A}/groups`),
  group: (id: string) => call<GroupDetail>('GET', `${A}/groups/${enc(id)}`),
  createGroup: (body: Body<typeof CreateGroupBody>) => call<Group>('POST', `${A}/groups`, body),
  deleteGroup: (id: string) => call<void>('DELETE', `${A}/groups/${enc(id)}`),
  addMember: (groupId: string, userId: string) =>
    call<void>('PUT', `${A}/groups/${enc(groupId)}/members/${enc(userId)}`),
  removeMember: (groupId: string, userId: string) =>
    call<void>('DELETE', `${A}/groups/${enc(groupId)}/members/${enc(userId)}`),

  modelEntitlements: () => call<ModelEntitlements>('GET', `${A}/model-entitlements`),
  setModelAccess: (body: Body<typeof ModelAccessBody>) =>
    call<void>('PUT', `${A}/model-access`, body),
  setPrice: (body: Body<typeof PriceBody>) => call<ModelPrice>('PUT', `${A}/prices`, body),

  budgets: () => call<{ data: Budget[] }>('GET', `${A}/budgets`),
  setBudget: (body: Body<typeof BudgetBody>) => call<void>('PUT', `${A}/budgets`, body),
  deleteBudget: (id: string) => call<void>('DELETE', `${A}/budgets/${enc(id)}`),

  usageReport: (f: UsageFilter) => call<UsageReport>('GET', `${A}/reports/usage${query({ ...f })}`),
  /** The same report as a CSV file (a plain link: the browser downloads it with the session). */
  usageCsvUrl: (f: UsageFilter) => `${A}/reports/usage${query({ ...f, format: 'csv' })}`,

  policies: () => call<RuntimePolicies>('GET', `${A}/policies`),
  updatePolicies: (change: Body<typeof PolicyChange>) =>
    call<RuntimePolicies>('PATCH', `${A}/policies`, change),
  presets: () => call<{ data: Preset[] }>('GET', `${A}/presets`),
  publishPreset: (body: Body<typeof PresetBody>) => call<Preset>('POST', `${A}/presets`, body),
  deletePreset: (id: string) => call<void>('DELETE', `${A}/presets/${enc(id)}`),
  templates: () => call<{ data: PromptTemplate[] }>('GET', `${A}/prompt-templates`),
  publishTemplate: (body: Body<typeof PromptTemplateBody>) =>
    call<PromptTemplate>('POST', `${A}/prompt-templates`, body),
  deleteTemplate: (id: string) => call<void>('DELETE', `${A}/prompt-templates/${enc(id)}`),

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
  verifications: () => call<{ data: AuditVerificationJob[] }>('GET', `${A}/audit/verifications`),
  requestVerification: () => call<AuditVerificationJob>('POST', `${A}/audit/verifications`),
  exports: () => call<{ data: AuditExport[] }>('GET', `${A}/audit/exports`),
  createExport: (body: Body<typeof ExportBody>) =>
    call<AuditExport>('POST', `${A}/audit/exports`, body),
  holds: () => call<{ data: LegalHold[] }>('GET', `${A}/audit/holds`),
  createHold: (body: Body<typeof CreateHoldBody>) =>
    call<LegalHold>('POST', `${A}/audit/holds`, body),
  releaseHold: (id: string) => call<LegalHold>('POST', `${A}/audit/holds/${enc(id)}/release`),
  erase: (userId: string, reason: string) =>
    call<ErasureResult>('POST', `${A}/audit/erasures`, { userId, reason }),
  exportFileUrl: (id: string, file: ExportFile) => `${A}/audit/exports/${enc(id)}/${file}`,
};
