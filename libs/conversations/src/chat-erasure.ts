import { type Sql } from '@enclave/db';
import type { HoldCondition } from './chat-retention.js';

/**
 * SQL condition on a hold `h`: it covers one of user `$1`'s messages (see `holdsBlockingErasure`),
 * given how a hold covers a record (the audit chain's `holdCoversRecord`).
 */
export function holdOverUserMessages(holdCoversRecord: HoldCondition): string {
  return `EXISTS (SELECT 1 FROM messages m
  WHERE m.user_id = $1 AND ${holdCoversRecord('m.user_id', 'm.created_at')})`;
}

export interface ChatErasure {
  /** Conversation messages whose text and tool calls were erased. */
  messages: number;
  /** Conversations whose title (taken from the first message) or system prompt was erased. */
  conversations: number;
  /** Feedback comments erased. */
  feedbackComments: number;
  /** The user's own presets and prompt templates, deleted (their text is the user's). */
  presetsAndTemplates: number;
}

/**
 * Erases what user `userId` wrote in the chat tables: the text and tool calls of their messages,
 * their conversation titles and system prompts, their feedback comments, and their own presets
 * and prompt templates (published ones belong to no user and stay). Run inside the erasure's transaction,
 * after `holdsBlockingErasure` (given `holdOverUserMessages`) found no hold.
 */
export async function eraseChatContent(sql: Sql, userId: string): Promise<ChatErasure> {
  const messages = await sql(
    `UPDATE messages SET content = '', tool_calls = NULL
      WHERE user_id = $1 AND (content <> '' OR tool_calls IS NOT NULL) RETURNING id`,
    [userId],
  );
  const conversations = await sql(
    `UPDATE conversations SET title = 'Erased conversation', system_prompt = NULL
      WHERE user_id = $1 AND (title <> 'Erased conversation' OR system_prompt IS NOT NULL)
      RETURNING id`,
    [userId],
  );
  const comments = await sql(
    `UPDATE feedback SET comment = NULL WHERE user_id = $1 AND comment IS NOT NULL RETURNING id`,
    [userId],
  );
  const presets = await sql(`DELETE FROM chat_presets WHERE user_id = $1 RETURNING id`, [userId]);
  const templates = await sql(`DELETE FROM prompt_templates WHERE user_id = $1 RETURNING id`, [
    userId,
  ]);
  return {
    messages: messages.length,
    conversations: conversations.length,
    feedbackComments: comments.length,
    presetsAndTemplates: presets.length + templates.length,
  };
}
