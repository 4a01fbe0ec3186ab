import { Injectable } from '@nestjs/common';
import { AuditLog } from '@enclave/audit';
import { type Principal, principalActor } from '@enclave/auth';
import type { ConversationSettingsBody } from '@enclave/contracts';
import {
  activePath,
  type Conversation,
  type ConversationMessage,
  ConversationsRepository,
} from '@enclave/conversations';
import { ApiError, encodeCursor, type RequestMeta } from '@enclave/http';
import { DataSource } from 'typeorm';
import type { ListConversationsQuery } from './conversations.schema.js';

export interface ConversationList {
  data: Conversation[];
  nextCursor: string | null;
}

/**
 * A signed-in user's conversations. Another user's conversation is answered exactly like one
 * that does not exist (404), so ids reveal nothing.
 */
@Injectable()
export class ConversationsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly conversations: ConversationsRepository,
    private readonly audit: AuditLog,
  ) {}

  create(principal: Principal, c: { title: string; model?: string }): Promise<Conversation> {
    return this.conversations.insert(this.dataSource.manager, {
      userId: principal.userId,
      title: c.title,
      model: c.model ?? null,
    });
  }

  async list(principal: Principal, query: ListConversationsQuery): Promise<ConversationList> {
    const page = await this.conversations.listForUser(principal.userId, query);
    return {
      data: page.items,
      nextCursor: page.next ? encodeCursor('updatedAt', page.next) : null,
    };
  }

  /** The conversation with the path of messages it shows, each with its versions' ids. */
  async get(
    principal: Principal,
    id: string,
  ): Promise<Conversation & { messages: (ConversationMessage & { versionIds: string[] })[] }> {
    const conversation = await this.conversations.getForUser(id, principal.userId);
    if (!conversation) throw notFound(id);
    const messages = activePath(
      await this.conversations.listMessages(id),
      conversation.activeMessageId,
      id,
    );
    return { ...conversation, messages };
  }

  async updateSettings(
    principal: Principal,
    id: string,
    settings: ConversationSettingsBody,
  ): Promise<Conversation> {
    const updated = await this.conversations.updateSettings(
      this.dataSource.manager,
      id,
      principal.userId,
      settings,
    );
    if (!updated) throw notFound(id);
    return updated;
  }

  /** Shows another version of a message (and what followed it); answers the new path. */
  async selectVersion(principal: Principal, id: string, messageId: string) {
    const conversation = await this.conversations.getForUser(id, principal.userId);
    if (!conversation) throw notFound(id);
    const stored = await this.conversations.listMessages(id);
    if (!stored.some((m) => m.id === messageId)) {
      throw new ApiError(
        404,
        'message_not_found',
        `This conversation has no message with id ${messageId}.`,
        { param: 'messageId' },
      );
    }
    await this.conversations.setActiveMessage(this.dataSource.manager, id, messageId);
    return {
      ...conversation,
      activeMessageId: messageId,
      messages: activePath(stored, messageId, id),
    };
  }

  async rename(principal: Principal, id: string, title: string): Promise<Conversation> {
    const renamed = await this.conversations.rename(
      this.dataSource.manager,
      id,
      principal.userId,
      title,
    );
    if (!renamed) throw notFound(id);
    return renamed;
  }

  async delete(principal: Principal, id: string, meta: RequestMeta): Promise<void> {
    const deleted = await this.dataSource.transaction(async (db) => {
      const gone = await this.conversations.delete(db, id, principal.userId);
      if (!gone) return false;
      // The title is left out on purpose: it is often the user's first prompt.
      await this.audit.append(db, {
        actor: principalActor(principal),
        action: 'conversation.deleted',
        target: { type: 'conversation', id },
        outcome: 'success',
        meta,
        payload: { messages: gone.messages },
      });
      return true;
    });
    if (!deleted) throw notFound(id);
  }
}

function notFound(id: string): ApiError {
  return new ApiError(404, 'conversation_not_found', `You have no conversation with id ${id}.`, {
    param: 'id',
  });
}
