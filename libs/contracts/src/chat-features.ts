import { z } from 'zod';
import { line, text } from './text.js';

// The chat UI's conversation features (issue 21): per-conversation system prompt and
// parameters, presets, prompt templates, versions of messages, full-text search.

const Time = z.string();

/**
 * The sampling parameters a conversation (or a preset) sends with every message, named as in
 * OpenAI's chat completions request; absent ones are left to the model server.
 */
export const ChatParams = z.strictObject({
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  max_tokens: z.number().int().min(1).max(1_000_000).optional(),
  presence_penalty: z.number().min(-2).max(2).optional(),
  frequency_penalty: z.number().min(-2).max(2).optional(),
});
export type ChatParams = z.infer<typeof ChatParams>;

const SystemPrompt = text().max(20_000);

/** `PUT /api/conversations/:id/settings`: a blank system prompt means none. */
export const ConversationSettingsBody = z.strictObject({
  systemPrompt: SystemPrompt.nullable().transform((p) => (p?.trim() ? p : null)),
  params: ChatParams,
});
export type ConversationSettingsBody = z.infer<typeof ConversationSettingsBody>;

/** `PUT /api/conversations/:id/active-message`: continue from this version of a message. */
export const SelectVersionBody = z.strictObject({ messageId: z.uuid() });
export type SelectVersionBody = z.infer<typeof SelectVersionBody>;

const PresetName = line().trim().min(1).max(100);

/** `POST /api/presets` (the user's own) and `POST /api/admin/presets` (published to everyone). */
export const PresetBody = z.strictObject({
  name: PresetName,
  systemPrompt: SystemPrompt.nullable()
    .default(null)
    .transform((p) => (p?.trim() ? p : null)),
  params: ChatParams.default({}),
});
export type PresetBody = z.infer<typeof PresetBody>;

export const Preset = z.object({
  id: z.string(),
  name: z.string(),
  systemPrompt: z.string().nullable(),
  params: ChatParams,
  /** Published by an admin for everyone (read-only in the chat UI). */
  shared: z.boolean(),
  createdAt: Time,
});
export type Preset = z.infer<typeof Preset>;

/** What follows `/` in the composer: lower-case letters, digits, `-` and `_`. */
export const TEMPLATE_NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;

/** `POST /api/prompt-templates` (the user's own) and `POST /api/admin/prompt-templates`. */
export const PromptTemplateBody = z.strictObject({
  name: z
    .string()
    .trim()
    .regex(TEMPLATE_NAME, 'must be 1 to 40 lower-case letters, digits, - or _ (what follows /)'),
  content: text().trim().min(1).max(20_000),
});
export type PromptTemplateBody = z.infer<typeof PromptTemplateBody>;

export const PromptTemplate = z.object({
  id: z.string(),
  name: z.string(),
  content: z.string(),
  shared: z.boolean(),
  createdAt: Time,
});
export type PromptTemplate = z.infer<typeof PromptTemplate>;

/** A piece of highlighted text: `match` pieces are what the search found. */
export const Highlighted = z.array(z.object({ text: z.string(), match: z.boolean() }));
export type Highlighted = z.infer<typeof Highlighted>;

/** `GET /api/search?q=`: the user's conversations whose messages or title match, best first. */
export const SearchHit = z.object({
  conversationId: z.string(),
  title: Highlighted,
  updatedAt: Time,
  /** The best matching message; null when only the title matched. */
  message: z
    .object({
      id: z.string(),
      role: z.enum(['system', 'user', 'assistant', 'tool']),
      snippet: Highlighted,
      createdAt: Time,
    })
    .nullable(),
});
export type SearchHit = z.infer<typeof SearchHit>;
