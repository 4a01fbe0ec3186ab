import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { type Config, InjectConfig } from '@enclave/config';
import { ConfigEvents, notifyConfigChanged, SettingsRepository } from '@enclave/db';
import { DataSource, type EntityManager } from 'typeorm';
import { RuntimePolicies } from '@enclave/contracts';

// The schema is the console's contract too (libs/contracts); this is its store and cache.
export { RuntimePolicies };

export const POLICIES_SETTING_KEY = 'policies';

export function defaultPolicies(config: Config): RuntimePolicies {
  return {
    auditContent: 'metadata',
    auditRetentionDays: { default: null, byKind: {} },
    messageRetentionDays: null,
    usageRetentionDays: null,
    cacheScope: config.cache.scope,
    defaultSystemPrompt: '',
  };
}

/**
 * The current runtime policies in every process: read once, cached, re-read when any instance
 * changes them (ConfigEvents topic `settings`). Stored values are merged over the defaults, so a
 * policy added in a later release starts at its default.
 */
@Injectable()
export class RuntimePoliciesService implements OnModuleInit {
  private readonly log = new Logger('RuntimePolicies');
  private current: RuntimePolicies;

  constructor(
    private readonly settings: SettingsRepository,
    private readonly events: ConfigEvents,
    private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: Config,
  ) {
    this.current = defaultPolicies(config);
  }

  async onModuleInit(): Promise<void> {
    this.events.on('settings', async () => {
      await this.reload();
    });
    // Before migrations are applied there is nothing to load; the periodic resync retries.
    await this.reload().catch((err: Error) => this.log.warn({ err }, 'policies not loaded yet'));
  }

  /** The policies as last loaded (cheap: no query). */
  get(): RuntimePolicies {
    return this.current;
  }

  async reload(): Promise<RuntimePolicies> {
    const row = await this.settings.get(POLICIES_SETTING_KEY);
    const stored = RuntimePolicies.partial().safeParse(row?.value ?? {});
    if (!stored.success) {
      this.log.error({ issues: stored.error.issues }, 'stored policies invalid; using defaults');
    }
    this.current = { ...defaultPolicies(this.config), ...(stored.success ? stored.data : {}) };
    return this.current;
  }

  /**
   * Applies a validated change inside the caller's transaction (so the audit event recording it
   * commits with it) and tells every instance. Returns the policies before and after.
   */
  async update(
    db: EntityManager,
    change: Partial<RuntimePolicies>,
  ): Promise<{ before: RuntimePolicies; after: RuntimePolicies }> {
    const row = await this.settings.getForUpdate(POLICIES_SETTING_KEY, db);
    const stored = RuntimePolicies.partial().safeParse(row?.value ?? {});
    const before = {
      ...defaultPolicies(this.config),
      ...(stored.success ? stored.data : {}),
    };
    const after = RuntimePolicies.parse({ ...before, ...change });
    await this.settings.set(POLICIES_SETTING_KEY, after, db);
    await notifyConfigChanged(db, 'settings');
    return { before, after };
  }

  /** For callers outside a request transaction (tests, CLI). */
  async updateNow(change: Partial<RuntimePolicies>) {
    const result = await this.dataSource.transaction((db) => this.update(db, change));
    await this.reload();
    return result;
  }
}

/** The retention in days for an audit action under the policies: longest matching prefix. */
export function auditRetentionFor(action: string, policies: RuntimePolicies): number | null {
  const { byKind, default: fallback } = policies.auditRetentionDays;
  let best: string | null = null;
  for (const kind of Object.keys(byKind)) {
    const matches = action === kind || action.startsWith(`${kind}.`);
    if (matches && (best === null || kind.length > best.length)) best = kind;
  }
  return best === null ? fallback : byKind[best]!;
}
