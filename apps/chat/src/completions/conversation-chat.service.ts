import { Injectable } from '@nestjs/common';
import type { Principal } from '@enclave/auth';
import { ConversationsRepository, MessagesRepository } from '@enclave/conversations';
import { ApiError, type RequestMeta } from '@enclave/http';
import { DataSource } from 'typeorm';
import { ChatCompletionsService } from './chat-completions.service.js';
import type { ChatCompletionRequest } from './chat-request.schema.js';
import type { SseSink } from './sse.js';

const DEFAULT_TITLE = 'New chat';
const TITLE_LENGTH = 60;

export interface ConversationTurn {
  model: string;
  /** The user's new message; absent when regenerating the last answer. */
  content?: string;
  regenerate?: boolean;
}

/**
 * The chat UI's way to talk: the server keeps the history, the browser sends only the new
 * message (or asks to regenerate the last answer) and gets the answer streamed back, produced,
 * stored and audited by the same path as an API completion.
 */
@Injectable()
export class ConversationChatService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly conversations: ConversationsRepository,
    private readonly messages: MessagesRepository,
    private readonly completions: ChatCompletionsService,
  ) {}

  async send(
    principal: Principal,
    conversationId: string,
    turn: ConversationTurn,
    meta: RequestMeta,
    sink: SseSink,
    signal: AbortSignal,
  ): Promise<void> {
    const conversation = await this.conversations.getForUser(conversationId, principal.userId);
    if (!conversation) {
      throw new ApiError(404, 'conversation_not_found', 'There is no such conversation.');
    }
    // Checked before anything is stored, so a refused request leaves the history untouched.
    await this.completions.admit(principal, turn.model);
    const history = await this.conversations.listMessages(conversationId);

    if (turn.regenerate) {
      const last = history.at(-1);
      if (last?.role === 'assistant') {
        await this.messages.delete(this.dataSource.manager, last.id);
        history.pop();
      }
      if (history.at(-1)?.role !== 'user') {
        throw new ApiError(
          400,
          'nothing_to_regenerate',
          'The conversation has no question to answer again.',
        );
      }
    } else {
      const content = turn.content!;
      await this.dataSource.transaction(async (db) => {
        await this.messages.insertUserMessage(db, {
          conversationId,
          userId: principal.userId,
          content,
          model: turn.model,
          requestId: meta.requestId,
        });
        if (conversation.title === DEFAULT_TITLE && !history.some((m) => m.role === 'user')) {
          await this.conversations.rename(db, conversationId, principal.userId, titleFrom(content));
        } else {
          await this.conversations.touch(db, conversationId);
        }
      });
      history.push({ role: 'user', content } as (typeof history)[number]);
    }

    const body: ChatCompletionRequest = {
      model: turn.model,
      stream: true,
      stream_options: { include_usage: true },
      messages: history
        .filter((m) => m.role === 'user' || (m.role === 'assistant' && m.content))
        .map((m) => ({ role: m.role as 'user' | 'assistant', content: m.content })),
    };
    await this.completions.stream({ principal, meta, conversationId, signal }, body, sink, {
      admitted: true,
    });
  }
}

function titleFrom(content: string): string {
  const line = content.trim().split('\n')[0]!.replace(/\s+/g, ' ');
  return line.length > TITLE_LENGTH ? `${line.slice(0, TITLE_LENGTH - 1)}…` : line || DEFAULT_TITLE;
}
