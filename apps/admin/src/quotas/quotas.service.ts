import { Injectable } from '@nestjs/common';
import { AuditLog } from '@enclave/audit';
import { type Principal, principalActor } from '@enclave/auth';
import { notifyConfigChanged } from '@enclave/db';
import { ApiError, type RequestMeta } from '@enclave/http';
import {
  type Quota,
  QuotasRepository,
  type QuotaScope,
  type UsageFilter,
  UsageRepository,
} from '@enclave/policy';
import { DataSource } from 'typeorm';

/** Quota changes: the row, its audit event and the reload notice, in one transaction. */
@Injectable()
export class QuotasService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: QuotasRepository,
    private readonly usageRepo: UsageRepository,
    private readonly audit: AuditLog,
  ) {}

  list(): Promise<Quota[]> {
    return this.repo.list();
  }

  usage(filter: UsageFilter) {
    return this.usageRepo.query(filter);
  }

  async set(quota: Quota, who: Principal, meta: RequestMeta): Promise<Quota> {
    return this.dataSource.transaction(async (db) => {
      const before =
        (await this.repo.list(db)).find(
          (q) => q.scope === quota.scope && q.subjectId === quota.subjectId,
        ) ?? null;
      const after = await this.repo.upsert(db, quota);
      await this.audit.append(db, {
        actor: principalActor(who),
        action: 'admin.quota.updated',
        target: { type: `quota:${quota.scope}`, id: quota.subjectId },
        outcome: 'success',
        meta,
        payload: { before, after },
      });
      await notifyConfigChanged(db, 'policies');
      return after;
    });
  }

  async remove(scope: QuotaScope, subjectId: string | null, who: Principal, meta: RequestMeta) {
    await this.dataSource.transaction(async (db) => {
      if (!(await this.repo.delete(db, scope, subjectId))) {
        throw new ApiError(404, 'quota_not_found', 'There is no such quota.');
      }
      await this.audit.append(db, {
        actor: principalActor(who),
        action: 'admin.quota.deleted',
        target: { type: `quota:${scope}`, id: subjectId },
        outcome: 'success',
        meta,
      });
      await notifyConfigChanged(db, 'policies');
    });
  }
}
