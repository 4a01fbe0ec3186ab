import { Injectable } from '@nestjs/common';
import { UsersRepository } from '@enclave/auth';
import {
  type ConversationKey,
  ConversationsRepository,
  type ConversationSummary,
} from '@enclave/conversations';
import type { EntityManager } from 'typeorm';

/** A conversation as admins and auditors list it, with its owner's email. */
export interface AdminConversationSummary extends ConversationSummary {
  userEmail: string;
}

export interface OpenedMessage {
  id: string;
  role: string;
  content: string;
  model: string | null;
  outcome: string | null;
  createdAt: Date;
}

/** An opened conversation: the summary and its title. */
export interface OpenedConversation extends AdminConversationSummary {
  title: string;
}

export interface ConversationFilter {
  /** Matches the owner's email, case-insensitively (never the title: that is content). */
  q: string | null;
  userId: string | null;
  /** Where the previous page ended: its last row's exact updated_at (text) and id. */
  before: ConversationKey | null;
  limit: number;
}

/**
 * Every user's conversations for admins and auditors: the rows from libs/conversations, the
 * owners' emails from libs/auth (each lib owns its table).
 */
@Injectable()
export class AdminConversationsService {
  constructor(
    private readonly conversations: ConversationsRepository,
    private readonly users: UsersRepository,
  ) {}

  async list(
    f: ConversationFilter,
  ): Promise<{ items: AdminConversationSummary[]; next: ConversationKey | null }> {
    let userIds: string[] | null = f.userId ? [f.userId] : null;
    if (f.q) {
      const matching = await this.users.idsWithEmailContaining(f.q);
      userIds = userIds ? userIds.filter((id) => matching.includes(id)) : matching;
    }
    if (userIds?.length === 0) return { items: [], next: null };
    const page = await this.conversations.listAll({ userIds, before: f.before, limit: f.limit });
    const emails = await this.users.emailsOf(page.items.map((c) => c.userId));
    return { items: page.items.map((c) => withEmail(c, emails)), next: page.next };
  }

  /** For opening: the caller audits the reason in the same transaction. */
  async get(db: EntityManager, id: string): Promise<OpenedConversation | null> {
    const conversation = await this.conversations.getAny(db, id);
    if (!conversation) return null;
    return withEmail(conversation, await this.users.emailsOf([conversation.userId], db));
  }

  async messages(db: EntityManager, conversationId: string): Promise<OpenedMessage[]> {
    const messages = await this.conversations.listMessages(conversationId, db);
    return messages.map((m) => ({
      id: m.id,
      role: m.role,
      content: m.content,
      model: m.model,
      outcome: m.outcome,
      createdAt: m.createdAt,
    }));
  }
}

/** Owners are never missing (their rows go with them, ON DELETE CASCADE) unless deleted just now. */
function withEmail<T extends { userId: string }>(
  row: T,
  emails: Map<string, string>,
): T & { userEmail: string } {
  return { ...row, userEmail: emails.get(row.userId) ?? '' };
}
