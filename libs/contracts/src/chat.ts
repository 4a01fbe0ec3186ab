import { z } from 'zod';
import { ChatParams } from './chat-features.js';
import { line, text } from './text.js';

// The chat app's own API (`/api/conversations`, `/api/messages`) as the chat UI uses it: request
// bodies the controllers validate with, and the answers' shapes as JSON carries them.

const Time = z.string();

export const Rating = z.enum(['up', 'down']);
export type Rating = z.infer<typeof Rating>;

export const Conversation = z.object({
  id: z.string(),
  title: z.string(),
  model: z.string().nullable(),
  /** Sent in front of every message of this conversation; null: the administrator's default. */
  systemPrompt: z.string().nullable(),
  params: ChatParams,
  /** The message whose versions were last chosen or written; null: the newest message. */
  activeMessageId: z.string().nullable(),
  createdAt: Time,
  updatedAt: Time,
});
export type Conversation = z.infer<typeof Conversation>;

export const MessageOutcome = z.enum([
  'in_progress',
  'completed',
  'client_disconnected',
  'upstream_error',
  /** Closed by the reconciler: its process died or it outlived the deadline. */
  'interrupted',
  /** Not served: the database was away when the request came (recorded from the spool). */
  'failed',
]);
export type MessageOutcome = z.infer<typeof MessageOutcome>;

export const StoredMessage = z.object({
  id: z.string(),
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string(),
  model: z.string().nullable(),
  upstream: z.string().nullable(),
  outcome: MessageOutcome.nullable(),
  /** The message this one follows; null for the first. */
  parentId: z.string().nullable(),
  /** This message and its other versions (same parent, same role), oldest first. */
  versionIds: z.array(z.string()),
  createdAt: Time,
});
export type StoredMessage = z.infer<typeof StoredMessage>;

export const ConversationDetail = Conversation.extend({ messages: z.array(StoredMessage) });
export type ConversationDetail = z.infer<typeof ConversationDetail>;

const Title = line().trim().min(1).max(200);

/** `POST /api/conversations`; an empty or absent body makes an untitled chat. */
export const CreateConversationBody = z
  .strictObject({
    title: Title.default('New chat'),
    model: line().trim().min(1).max(200).optional(),
  })
  .prefault({});
export type CreateConversationBody = z.infer<typeof CreateConversationBody>;

/** `PATCH /api/conversations/:id` */
export const RenameConversationBody = z.strictObject({ title: Title });
export type RenameConversationBody = z.infer<typeof RenameConversationBody>;

/**
 * `POST /api/conversations/:id/messages`: a new message, or `regenerate: true` for a new answer
 * to the last one, or `content` with `editOf` (a message of yours shown in the conversation) for
 * an edited version of it; the answer streams back as OpenAI chunks over Server-Sent Events.
 * Nothing is replaced: earlier versions stay stored, as siblings of the new one.
 */
export const SendMessageBody = z
  .strictObject({
    model: line().min(1).max(256),
    content: text().trim().min(1).max(200_000).optional(),
    regenerate: z.boolean().optional(),
    editOf: z.uuid('must be the id of a message of yours').optional(),
  })
  .refine((t) => (t.regenerate ? t.content === undefined : t.content !== undefined), {
    message: 'send either content, or regenerate: true',
    path: ['content'],
  })
  .refine((t) => !(t.regenerate && t.editOf), {
    message: 'editOf goes with content, not with regenerate',
    path: ['editOf'],
  });
export type SendMessageBody = z.infer<typeof SendMessageBody>;

export const MAX_COMMENT_LENGTH = 2000;

/** `PUT /api/messages/:id/feedback`; an empty or blank comment means none. */
export const FeedbackBody = z.strictObject({
  rating: Rating,
  comment: text()
    .trim()
    .max(MAX_COMMENT_LENGTH)
    .nullable()
    .optional()
    .transform((c) => c || null),
});
export type FeedbackBody = z.infer<typeof FeedbackBody>;

export const Feedback = z.object({
  messageId: z.string(),
  rating: Rating,
  comment: z.string().nullable(),
});
export type Feedback = z.infer<typeof Feedback>;

/** `GET /v1/models` as the chat UI reads it (OpenAI's list; other fields are ignored). */
export const ModelList = z.object({ data: z.array(z.object({ id: z.string() })) });
export type ModelList = z.infer<typeof ModelList>;
