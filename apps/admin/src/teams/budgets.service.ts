import { Injectable } from '@nestjs/common';
import { AuditLog } from '@enclave/audit';
import {
  ApiKeysRepository,
  GroupsRepository,
  type Principal,
  principalActor,
  UsersRepository,
} from '@enclave/auth';
import type { Budget as BudgetView, BudgetBody } from '@enclave/contracts';
import { notifyConfigChanged } from '@enclave/db';
import { ApiError, type RequestMeta } from '@enclave/http';
import { type Budget, BudgetsRepository } from '@enclave/policy';
import { DataSource } from 'typeorm';

/** Budgets per group, user and key: the row, its audit event and the reload notice together. */
@Injectable()
export class BudgetsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly budgets: BudgetsRepository,
    private readonly groups: GroupsRepository,
    private readonly users: UsersRepository,
    private readonly apiKeys: ApiKeysRepository,
    private readonly audit: AuditLog,
  ) {}

  async list(): Promise<BudgetView[]> {
    const rows = await this.budgets.list();
    const of = (scope: BudgetView['scope']) =>
      rows.filter((b) => b.scope === scope).map((b) => b.subjectId);
    const [group, user, api_key] = await Promise.all([
      this.groups.namesOf(of('group')),
      this.users.emailsOf(of('user')),
      this.apiKeys.prefixesOf(of('api_key')),
    ]);
    const labels = { group, user, api_key };
    return rows.map((b) => ({ ...b, subjectLabel: labels[b.scope].get(b.subjectId) ?? null }));
  }

  async set(body: BudgetBody, who: Principal, meta: RequestMeta): Promise<Budget> {
    return this.dataSource.transaction(async (db) => {
      if (body.scope === 'group' && !(await this.groups.findById(body.subjectId, db))) {
        throw new ApiError(404, 'group_not_found', `There is no group with id ${body.subjectId}.`);
      }
      if (body.scope === 'user' && !(await this.users.findById(body.subjectId, db))) {
        throw new ApiError(404, 'user_not_found', `There is no user with id ${body.subjectId}.`);
      }
      if (body.scope === 'api_key' && !(await this.apiKeys.prefixesOf([body.subjectId], db)).size) {
        throw new ApiError(
          404,
          'api_key_not_found',
          `There is no API key with id ${body.subjectId}; the console lists each user's keys.`,
        );
      }
      const { before, after } = await this.budgets.upsert(db, body);
      await this.audit.append(db, {
        actor: principalActor(who),
        action: 'admin.budget.updated',
        target: { type: `budget:${body.scope}`, id: body.subjectId },
        outcome: 'success',
        meta,
        payload: { before, after },
      });
      await notifyConfigChanged(db, 'policies');
      return after;
    });
  }

  async remove(id: string, who: Principal, meta: RequestMeta): Promise<void> {
    await this.dataSource.transaction(async (db) => {
      const before = await this.budgets.delete(db, id);
      if (!before) throw new ApiError(404, 'budget_not_found', `There is no budget with id ${id}.`);
      await this.audit.append(db, {
        actor: principalActor(who),
        action: 'admin.budget.deleted',
        target: { type: `budget:${before.scope}`, id: before.subjectId },
        outcome: 'success',
        meta,
        payload: { before },
      });
      await notifyConfigChanged(db, 'policies');
    });
  }
}
