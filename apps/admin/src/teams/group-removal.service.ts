import { Injectable } from '@nestjs/common';
import type { AuditActor } from '@enclave/audit';
import { GroupsService } from '@enclave/auth';
import { ApiError, type RequestMeta } from '@enclave/http';
import { BudgetsRepository, ModelAccessRepository } from '@enclave/policy';

/**
 * Deleting a group, with what hangs on it in libs/policy. Refused while the group is the only
 * one a model is open to: its rule would go with it and leave the model open to everyone.
 * Otherwise the group leaves the other models' access lists and its budgets are deleted, both
 * named in `admin.group.deleted`.
 */
@Injectable()
export class GroupRemovalService {
  constructor(
    private readonly groups: GroupsService,
    private readonly access: ModelAccessRepository,
    private readonly budgets: BudgetsRepository,
  ) {}

  remove(id: string, actor: AuditActor, meta: RequestMeta): Promise<void> {
    return this.groups.remove(id, actor, meta, async (db, group) => {
      const rules = await this.access.lockRulesNaming(db, id);
      const guarded = rules.filter((r) => r.groupIds.length === 1).map((r) => r.model);
      if (guarded.length) {
        const models = guarded.map((m) => `'${m}'`).join(', ');
        throw new ApiError(
          409,
          'group_in_use',
          `'${group.name}' is the only group allowed to use ${models}: deleting it would open ` +
            `${guarded.length === 1 ? 'that model' : 'those models'} to everyone. Change the ` +
            'access on Model access & prices first, then delete the group.',
        );
      }
      const budgets = await this.budgets.deleteOfSubject(db, 'group', id);
      return {
        leftModelAccess: rules.map((r) => r.model),
        deletedBudgets: budgets.map(({ id: budgetId, unit, period, limit }) => ({
          id: budgetId,
          unit,
          period,
          limit,
        })),
      };
    });
  }
}
