import { Injectable } from '@nestjs/common';
import { AuditLog } from '@enclave/audit';
import { GroupsRepository, type Principal, principalActor } from '@enclave/auth';
import { type Config, InjectConfig } from '@enclave/config';
import type { ModelEntitlements } from '@enclave/contracts';
import { notifyConfigChanged } from '@enclave/db';
import { ApiError, type RequestMeta } from '@enclave/http';
import { UpstreamPool } from '@enclave/llm';
import { type ModelPrice, ModelAccessRepository, PricesRepository } from '@enclave/policy';
import { DataSource } from 'typeorm';

/**
 * Which groups may use each model and what it costs. A price change appends a price (the
 * history stays, and costs already recorded keep theirs); both changes are audited and reach
 * every chat instance through the `policies` notice.
 */
@Injectable()
export class ModelEntitlementsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly access: ModelAccessRepository,
    private readonly prices: PricesRepository,
    private readonly groups: GroupsRepository,
    private readonly pool: UpstreamPool,
    private readonly audit: AuditLog,
    @InjectConfig() private readonly config: Config,
  ) {}

  /** Every served model and alias, and any model that has a rule or price of its own. */
  async list(): Promise<ModelEntitlements> {
    const [rules, prices] = await Promise.all([this.access.list(), this.prices.current()]);
    const models = new Set([
      ...this.pool.models(),
      ...rules.map((r) => r.model),
      ...prices.map((p) => p.model),
    ]);
    const ruleOf = new Map(rules.map((r) => [r.model, r.groupIds]));
    const priceOf = new Map(prices.map((p) => [p.model, p]));
    return {
      currency: this.config.billing.currency,
      models: [...models].sort().map((model) => {
        const price = priceOf.get(model);
        return {
          model,
          groupIds: ruleOf.get(model) ?? [],
          price: price
            ? {
                inputPerMillion: price.inputPerMillion,
                outputPerMillion: price.outputPerMillion,
                currency: price.currency,
                setAt: price.setAt.toISOString(),
              }
            : null,
        };
      }),
    };
  }

  async setAccess(
    model: string,
    groupIds: string[],
    who: Principal,
    meta: RequestMeta,
  ): Promise<{ model: string; groupIds: string[] }> {
    return this.dataSource.transaction(async (db) => {
      const known = await this.groups.namesOf(groupIds, db, { keep: true });
      const missing = groupIds.filter((id) => !known.has(id));
      if (missing.length) {
        throw new ApiError(404, 'group_not_found', `There is no group with id ${missing[0]}.`, {
          param: 'groupIds',
        });
      }
      const before = await this.access.set(db, model, groupIds);
      const after = [...new Set(groupIds)].sort();
      await this.audit.append(db, {
        actor: principalActor(who),
        action: 'admin.model_access.updated',
        target: { type: 'model', id: model },
        outcome: 'success',
        meta,
        payload: { before, after, groups: after.map((id) => known.get(id)) },
      });
      await notifyConfigChanged(db, 'policies');
      return { model, groupIds: after };
    });
  }

  async setPrice(
    price: { model: string; inputPerMillion: number; outputPerMillion: number },
    who: Principal,
    meta: RequestMeta,
  ): Promise<ModelPrice> {
    return this.dataSource.transaction(async (db) => {
      const before = (await this.prices.history(price.model, db))[0] ?? null;
      const after = await this.prices.add(db, { ...price, currency: this.config.billing.currency });
      await this.audit.append(db, {
        actor: principalActor(who),
        action: 'admin.price.updated',
        target: { type: 'model', id: price.model },
        outcome: 'success',
        meta,
        payload: {
          before: before && pick(before),
          after: pick(after),
        },
      });
      await notifyConfigChanged(db, 'policies');
      return after;
    });
  }

  priceHistory(model: string): Promise<ModelPrice[]> {
    return this.prices.history(model);
  }
}

function pick(p: ModelPrice) {
  return {
    inputPerMillion: p.inputPerMillion,
    outputPerMillion: p.outputPerMillion,
    currency: p.currency,
  };
}
