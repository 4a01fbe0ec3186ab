import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { GroupsRepository, type Principal } from '@enclave/auth';
import { type Config, InjectConfig } from '@enclave/config';
import { ConfigEvents } from '@enclave/db';
import { ApiError } from '@enclave/http';
import { type Budget, BudgetsRepository } from './budgets.repository.js';
import { ModelAccessRepository } from './model-access.repository.js';
import { type ModelPrice, PricesRepository } from './prices.repository.js';

/** A budget that applies to a request, with who it belongs to in words. */
export interface ApplicableBudget extends Budget {
  label: string;
}

/**
 * Who may use which model, what a request costs and which budgets it counts against, held in
 * memory so the gateway answers without a database round trip: groups, memberships, model
 * access, prices and budgets are reloaded on the `policies` notice (every admin change to them
 * sends it) and by the 30 s resync.
 */
@Injectable()
export class Entitlements implements OnModuleInit {
  private readonly log = new Logger('Entitlements');
  private groupNames = new Map<string, string>();
  private groupsByUser = new Map<string, string[]>();
  private access = new Map<string, Set<string>>();
  private prices = new Map<string, ModelPrice>();
  private budgetsBySubject = new Map<string, Budget[]>();
  private loadsStarted = 0;
  private loadApplied = 0;

  constructor(
    private readonly groups: GroupsRepository,
    private readonly accessRepo: ModelAccessRepository,
    private readonly pricesRepo: PricesRepository,
    private readonly budgetsRepo: BudgetsRepository,
    private readonly events: ConfigEvents,
    @InjectConfig() private readonly config: Config,
  ) {}

  async onModuleInit(): Promise<void> {
    this.events.on('policies', () => this.reload());
    await this.reload().catch((err: Error) => this.log.warn({ err }, 'not loaded yet'));
  }

  async reload(): Promise<void> {
    const load = ++this.loadsStarted;
    const [groups, memberships, rules, prices, budgets] = await Promise.all([
      this.groups.list(),
      this.groups.allMemberships(),
      this.accessRepo.list(),
      this.pricesRepo.current(),
      this.budgetsRepo.list(),
    ]);
    // Two notices close together start two loads; one started later has read newer rules.
    if (load < this.loadApplied) return;
    this.loadApplied = load;
    this.groupNames = new Map(groups.map((g) => [g.id, g.name]));
    const byUser = new Map<string, string[]>();
    for (const m of memberships) {
      const list = byUser.get(m.userId);
      if (list) list.push(m.groupId);
      else byUser.set(m.userId, [m.groupId]);
    }
    this.groupsByUser = byUser;
    this.access = new Map(rules.map((r) => [r.model, new Set(r.groupIds)]));
    this.prices = new Map(prices.map((p) => [p.model, p]));
    const bySubject = new Map<string, Budget[]>();
    for (const b of budgets) {
      const key = `${b.scope}:${b.subjectId}`;
      bySubject.set(key, [...(bySubject.get(key) ?? []), b]);
    }
    this.budgetsBySubject = bySubject;
  }

  get currency(): string {
    return this.config.billing.currency;
  }

  get warnShare(): number {
    return this.config.billing.budgetWarnShare;
  }

  groupsOf(userId: string): string[] {
    return this.groupsByUser.get(userId) ?? [];
  }

  /**
   * The groups a model is restricted to: the rule on the name asked for, else on the model an
   * alias stands for; null when open to everyone.
   */
  private restriction(model: string, resolved: string): Set<string> | null {
    return this.access.get(model) ?? this.access.get(resolved) ?? null;
  }

  allows(userId: string, model: string, resolved = model): boolean {
    const groups = this.restriction(model, resolved);
    return !groups || this.groupsOf(userId).some((g) => groups.has(g));
  }

  /** Throws 403 `model_not_allowed` naming the groups that may use the model. */
  assertAllowed(principal: Principal, model: string, resolved = model): void {
    if (this.allows(principal.userId, model, resolved)) return;
    const names = [...this.restriction(model, resolved)!]
      .map((id) => this.groupNames.get(id))
      .filter((n): n is string => !!n)
      .sort();
    throw new ApiError(
      403,
      'model_not_allowed',
      `The model '${model}' is open only to members of the groups: ${names.join(', ') || 'none'}; ask your Enclave administrator to add you to one of them.`,
      { param: 'model' },
    );
  }

  /** The cost of a request at the price in force now (0 when the model has no price). */
  costOf(model: string, resolved: string, promptTokens: number, completionTokens: number) {
    const price = this.prices.get(model) ?? this.prices.get(resolved);
    if (!price) return { cost: 0, currency: null };
    const cost =
      (promptTokens * price.inputPerMillion + completionTokens * price.outputPerMillion) / 1e6;
    return { cost: Math.round(cost * 1e6) / 1e6, currency: price.currency };
  }

  /** The budgets a principal's request counts against: its user's, its key's, its groups'. */
  budgetsOf(principal: Principal): ApplicableBudget[] {
    const found: ApplicableBudget[] = [];
    const add = (key: string, label: string) => {
      for (const b of this.budgetsBySubject.get(key) ?? []) found.push({ ...b, label });
    };
    add(`user:${principal.userId}`, 'your user');
    if (principal.apiKey) {
      add(`api_key:${principal.apiKey.id}`, `the API key ${principal.apiKey.prefix}`);
    }
    for (const g of this.groupsOf(principal.userId)) {
      add(`group:${g}`, `the group ${this.groupNames.get(g) ?? g}`);
    }
    return found;
  }
}
