import { Injectable } from '@nestjs/common';
import { AuditLog } from '@enclave/audit';
import { type Principal, principalActor } from '@enclave/auth';
import type { ChatParams } from '@enclave/contracts';
import {
  activePath,
  type Conversation,
  type ConversationMessage,
  ConversationsRepository,
  MessagesRepository,
} from '@enclave/conversations';
import { ApiError, type RequestMeta } from '@enclave/http';
import { DataSource } from 'typeorm';
import { ChatCompletionsService } from './chat-completions.service.js';
import type { ChatCompletionRequest } from './chat-request.schema.js';
import type { SseSink } from './sse.js';

const DEFAULT_TITLE = 'New chat';
const TITLE_LENGTH = 60;

export interface ConversationTurn {
  model: string;
  /** The user's new message (or new version of `editOf`); absent when regenerating. */
  content?: string;
  regenerate?: boolean;
  /** A user message shown in the conversation, of which `content` is a new version. */
  editOf?: string;
}

/**
 * The chat UI's way to talk: the server keeps the history, the browser sends only the new
 * message (or asks to regenerate the last answer, or sends an edited version of a question) and
 * gets the answer streamed back, produced, stored and audited by the same path as an API
 * completion. Nothing is replaced: a regenerated answer or an edited question is a new version
 * beside the old one (libs/conversations' activePath), and the conversation continues from it.
 */
@Injectable()
export class ConversationChatService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly conversations: ConversationsRepository,
    private readonly messages: MessagesRepository,
    private readonly completions: ChatCompletionsService,
    private readonly audit: AuditLog,
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
    const stored = await this.conversations.listMessages(conversationId);
    const path: ConversationMessage[] = activePath(
      stored,
      conversation.activeMessageId,
      conversationId,
    );

    let history: ConversationMessage[];
    let answers: string;
    if (turn.regenerate) {
      const previous = path.at(-1)?.role === 'assistant' ? path.at(-1)!.id : null;
      history = previous ? path.slice(0, -1) : path;
      const question = history.at(-1);
      if (question?.role !== 'user') {
        throw new ApiError(
          400,
          'nothing_to_regenerate',
          'The conversation has no question to answer again.',
        );
      }
      answers = question.id;
      await this.dataSource.transaction(async (db) => {
        await this.conversations.setActiveMessage(db, conversationId, question.id);
        await this.conversations.touch(db, conversationId);
        await this.audit.append(db, {
          actor: principalActor(principal),
          action: 'conversation.answer.regenerated',
          target: { type: 'conversation', id: conversationId },
          outcome: 'success',
          meta,
          payload: { questionId: question.id, previousAnswerId: previous },
        });
      });
    } else {
      const content = turn.content!;
      // A first message names the conversation (see activePath).
      let parentId = path.at(-1)?.id ?? conversationId;
      history = path;
      if (turn.editOf) {
        const at = path.findIndex((m) => m.id === turn.editOf && m.role === 'user');
        if (at < 0) {
          throw new ApiError(
            404,
            'message_not_found',
            'The message to edit is not one of your messages shown in this conversation; reload it and try again.',
            { param: 'editOf' },
          );
        }
        history = path.slice(0, at);
        parentId = path[at]!.parentId ?? conversationId;
      }
      answers = await this.dataSource.transaction(async (db) => {
        const id = await this.messages.insertUserMessage(db, {
          conversationId,
          parentId,
          userId: principal.userId,
          content,
          model: turn.model,
          requestId: meta.requestId,
        });
        await this.conversations.setActiveMessage(db, conversationId, id);
        if (turn.editOf) {
          // The earlier version stays stored; the event ties the two together.
          await this.audit.append(db, {
            actor: principalActor(principal),
            action: 'conversation.message.edited',
            target: { type: 'message', id },
            outcome: 'success',
            meta,
            payload: { conversationId, editOf: turn.editOf },
          });
        }
        if (conversation.title === DEFAULT_TITLE && !stored.some((m) => m.role === 'user')) {
          await this.conversations.rename(db, conversationId, principal.userId, titleFrom(content));
        } else {
          await this.conversations.touch(db, conversationId);
        }
        return id;
      });
      history = [...history, { role: 'user', content } as ConversationMessage];
    }

    await this.completions.stream(
      { principal, meta, conversationId, parentMessageId: answers, signal },
      requestFor(conversation, turn.model, history),
      sink,
      // Asked again for another answer: the cache would give the same one back.
      { admitted: true, cache: !turn.regenerate },
    );
  }
}

/** The upstream request: the conversation's system prompt and parameters, then its history. */
function requestFor(
  conversation: Conversation,
  model: string,
  history: ConversationMessage[],
): ChatCompletionRequest {
  const messages: ChatCompletionRequest['messages'] = history
    .filter((m) => m.role === 'user' || (m.role === 'assistant' && m.content))
    .map((m) => ({ role: m.role as 'user' | 'assistant', content: m.content }));
  if (conversation.systemPrompt) {
    messages.unshift({ role: 'system', content: conversation.systemPrompt });
  }
  return {
    ...(conversation.params as ChatParams),
    model,
    stream: true,
    stream_options: { include_usage: true },
    messages,
  };
}

function titleFrom(content: string): string {
  const line = content.trim().split('\n')[0]!.replace(/\s+/g, ' ');
  return line.length > TITLE_LENGTH ? `${line.slice(0, TITLE_LENGTH - 1)}…` : line || DEFAULT_TITLE;
}
