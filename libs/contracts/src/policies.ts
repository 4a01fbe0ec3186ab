import { z } from 'zod';
import { text } from './text.js';

/** Days to keep something; null keeps it forever. */
const Days = z.number().int().min(1).max(36_500).nullable();

/**
 * The policies an administrator sets at run time from the console (stored in `enclave_settings`
 * under one key, validated whole; `GET` and `PATCH /api/admin/policies`).
 */
export const RuntimePolicies = z.strictObject({
  /** How much of a prompt and answer a `chat.completion` audit event records. */
  auditContent: z.enum(['none', 'metadata', 'full']),
  /**
   * Audit retention per event kind: `byKind` maps an action or action prefix (`chat`,
   * `chat.completion`, `auth.login`) to days, the longest matching prefix wins; `default` is
   * for everything else.
   */
  auditRetentionDays: z.strictObject({
    default: Days,
    byKind: z.record(z.string().regex(/^[a-z_]+(\.[a-z_]+)*$/), Days.unwrap()),
  }),
  /** Conversation messages older than this are deleted; null keeps them. */
  messageRetentionDays: Days,
  /**
   * Usage history (requests, tokens and cost per user, key, group and model) older than this is
   * deleted; null keeps it. Separate from messages, so cost reports outlive conversations.
   */
  usageRetentionDays: Days,
  /** Response cache scope, overriding ENCLAVE_CACHE_SCOPE once set. */
  cacheScope: z.enum(['user', 'global', 'off']),
  /** Prepended as a system message to chat requests that carry none. Empty: nothing added. */
  defaultSystemPrompt: text().max(20_000),
});
export type RuntimePolicies = z.infer<typeof RuntimePolicies>;

/** `PATCH /api/admin/policies`: any subset; each given field is validated as a whole. */
export const PolicyChange = RuntimePolicies.partial();
export type PolicyChange = z.infer<typeof PolicyChange>;
