import { Injectable } from '@nestjs/common';
import { type AuditActor, AuditLog } from '@enclave/audit';
import { notifyConfigChanged } from '@enclave/db';
import { ApiError, type RequestMeta } from '@enclave/http';
import { DataSource, type EntityManager } from 'typeorm';
import { UsersRepository } from '../users.repository.js';
import { type Group, type GroupMember, GroupsRepository } from './groups.repository.js';

/**
 * Groups and memberships: every change is the row, its audit event and the `policies` notice
 * (model access and budgets follow membership) in one transaction.
 */
@Injectable()
export class GroupsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly groups: GroupsRepository,
    private readonly users: UsersRepository,
    private readonly audit: AuditLog,
  ) {}

  list(): Promise<Group[]> {
    return this.groups.list();
  }

  async get(id: string): Promise<Group & { members: GroupMember[] }> {
    const group = await this.groups.findById(id);
    if (!group) throw groupNotFound(id);
    return { ...group, members: await this.groups.members(id) };
  }

  async byName(name: string): Promise<Group> {
    const group = await this.groups.findByName(name);
    if (!group) throw new ApiError(404, 'group_not_found', `There is no group named '${name}'.`);
    return group;
  }

  async create(
    input: { name: string; description?: string | null },
    actor: AuditActor,
    meta: RequestMeta | null,
  ): Promise<Group> {
    return this.dataSource.transaction(async (db) => {
      const group = await this.groups.insert(db, {
        name: input.name.trim(),
        description: input.description ?? null,
      });
      if (!group) throw nameTaken(input.name);
      await this.record(db, actor, meta, 'admin.group.created', group.id, {
        after: summary(group),
      });
      return group;
    });
  }

  async update(
    id: string,
    changes: { name?: string; description?: string | null },
    actor: AuditActor,
    meta: RequestMeta | null,
  ): Promise<Group> {
    return this.dataSource.transaction(async (db) => {
      const before = await this.groups.findById(id, db);
      if (!before) throw groupNotFound(id);
      if (changes.name) {
        const other = await this.groups.findByName(changes.name, db);
        if (other && other.id !== id) throw nameTaken(changes.name);
      }
      const after = (await this.groups.update(db, id, {
        ...changes,
        name: changes.name?.trim(),
      }))!;
      await this.record(db, actor, meta, 'admin.group.updated', id, {
        before: summary(before),
        after: summary(after),
      });
      return after;
    });
  }

  /**
   * Deletes a group and its memberships. `alongside` runs first, in the same transaction and
   * with the group locked: what hangs on the group outside this lib (model access, budgets) is
   * settled there, and what it returns joins the audit event.
   */
  async remove(
    id: string,
    actor: AuditActor,
    meta: RequestMeta | null,
    alongside?: (db: EntityManager, group: Group) => Promise<Record<string, unknown>>,
  ): Promise<void> {
    await this.dataSource.transaction(async (db) => {
      const before = await this.groups.findById(id, db, { forUpdate: true });
      if (!before) throw groupNotFound(id);
      const settled = alongside ? await alongside(db, before) : {};
      await this.groups.delete(db, id);
      await this.record(db, actor, meta, 'admin.group.deleted', id, {
        before: summary(before),
        ...settled,
      });
    });
  }

  async addMember(
    groupId: string,
    userId: string,
    actor: AuditActor,
    meta: RequestMeta | null,
  ): Promise<void> {
    await this.dataSource.transaction(async (db) => {
      const group = await this.groups.findById(groupId, db);
      if (!group) throw groupNotFound(groupId);
      const user = await this.users.findById(userId, db);
      if (!user) {
        throw new ApiError(404, 'user_not_found', `There is no user with id ${userId}.`);
      }
      if (!(await this.groups.addMember(db, groupId, userId, 'manual'))) return;
      await this.record(db, actor, meta, 'admin.group.member_added', groupId, {
        group: group.name,
        userId,
        email: user.email,
        via: 'manual',
      });
    });
  }

  async removeMember(
    groupId: string,
    userId: string,
    actor: AuditActor,
    meta: RequestMeta | null,
  ): Promise<void> {
    await this.dataSource.transaction(async (db) => {
      const group = await this.groups.findById(groupId, db);
      if (!group) throw groupNotFound(groupId);
      if (!(await this.groups.removeMember(db, groupId, userId))) {
        throw new ApiError(
          404,
          'member_not_found',
          `The user ${userId} is not a member of the group '${group.name}'.`,
        );
      }
      await this.record(db, actor, meta, 'admin.group.member_removed', groupId, {
        group: group.name,
        userId,
        via: 'manual',
      });
    });
  }

  /**
   * Brings a single sign-on user's memberships in line with the provider's group claim, in the
   * sign-in's transaction: joins the mapped groups (creating a group the map names that does not
   * exist yet) and leaves the groups an earlier sign-in joined that the claim no longer gives.
   * Memberships made by hand are left alone.
   */
  async syncFromSso(
    db: EntityManager,
    user: { id: string; email: string },
    groupNames: readonly string[],
    actor: AuditActor,
    meta: RequestMeta | null,
  ): Promise<void> {
    const current = await this.groups.groupsOfUser(user.id, db);
    const wanted = new Map<string, Group>();
    for (const name of new Set(groupNames)) {
      let group = await this.groups.findByName(name, db);
      if (!group) {
        group = await this.groups.insert(db, { name, description: null });
        // Null: another sign-in created it first (the name is unique); join that one.
        if (!group) {
          const existing = await this.groups.findByName(name, db);
          if (existing) wanted.set(existing.id, existing);
          continue;
        }
        await this.record(db, actor, meta, 'admin.group.created', group.id, {
          after: summary(group),
          via: 'sso',
        });
      }
      wanted.set(group.id, group);
    }
    for (const group of wanted.values()) {
      if (current.some((c) => c.id === group.id)) continue;
      await this.groups.addMember(db, group.id, user.id, 'sso');
      await this.record(db, actor, meta, 'admin.group.member_added', group.id, {
        group: group.name,
        userId: user.id,
        email: user.email,
        via: 'sso',
      });
    }
    for (const left of current.filter((c) => c.via === 'sso' && !wanted.has(c.id))) {
      await this.groups.removeMember(db, left.id, user.id);
      await this.record(db, actor, meta, 'admin.group.member_removed', left.id, {
        group: left.name,
        userId: user.id,
        via: 'sso',
      });
    }
  }

  private async record(
    db: EntityManager,
    actor: AuditActor,
    meta: RequestMeta | null,
    action: string,
    groupId: string,
    payload: Record<string, unknown>,
  ): Promise<void> {
    await this.audit.append(db, {
      actor,
      action,
      target: { type: 'group', id: groupId },
      outcome: 'success',
      meta,
      payload,
    });
    await notifyConfigChanged(db, 'policies');
  }
}

function summary(g: Group) {
  return { name: g.name, description: g.description };
}

function groupNotFound(id: string): ApiError {
  return new ApiError(404, 'group_not_found', `There is no group with id ${id}.`);
}

function nameTaken(name: string): ApiError {
  return new ApiError(
    409,
    'group_name_taken',
    `A group named '${name.trim()}' already exists (names are compared without case); choose another name.`,
  );
}
