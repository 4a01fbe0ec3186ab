import { Injectable } from '@nestjs/common';
import { AuditLog } from '@enclave/audit';
import { type Principal, principalActor } from '@enclave/auth';
import type { RequestMeta } from '@enclave/http';
import { type RuntimePolicies, RuntimePoliciesService } from '@enclave/policy';
import { DataSource } from 'typeorm';

/** Reading and changing the runtime policies; a change and its audit event commit together. */
@Injectable()
export class PoliciesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly policies: RuntimePoliciesService,
    private readonly audit: AuditLog,
  ) {}

  /** Read from the database, not the cache: the console shows what is stored right now. */
  get(): Promise<RuntimePolicies> {
    return this.policies.reload();
  }

  async update(
    change: Partial<RuntimePolicies>,
    who: Principal,
    meta: RequestMeta,
  ): Promise<RuntimePolicies> {
    const { after } = await this.dataSource.transaction(async (db) => {
      const result = await this.policies.update(db, change);
      await this.audit.append(db, {
        actor: principalActor(who),
        action: 'admin.policies.updated',
        target: { type: 'policies', id: null },
        outcome: 'success',
        meta,
        payload: { before: result.before, after: result.after, changed: Object.keys(change) },
      });
      return result;
    });
    // This instance applies it at once; the others on the notification.
    await this.policies.reload();
    return after;
  }
}
