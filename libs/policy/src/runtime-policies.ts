import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { type Config, InjectConfig } from '@enclave/config';
import { ConfigEvents, notifyConfigChanged, SettingsRepository } from '@enclave/db';
import { DataSource, type EntityManager } from 'typeorm';
import { z } from 'zod';
import { text } from '@enclave/http';

/** Days to keep something; null keeps it forever. */
const Days = z.number().int().min(1).max(36_500).nullable();

/**
 * The policies an administrator sets at run time from the console (stored in `enclave_settings`
 * under one key, validated whole, changed with `PATCH /api/admin/policies`).
 */
export const RuntimePolicies = z.strictObject({
  /** How much of a prompt and answer a `chat.completion` audit event records. */
  auditContent: z.enum(['none', 'metadata', 'full']),
  /**
   * Audit retention per event kind: `byKind` maps an action or action prefix (`chat`,
   * `chat.completion`, `auth.login`) to days, the longest matching prefix wins; `default` is
   * for everything else.
   */
  auditRetentionDays: z.strictObject({
    default: Days,
    byKind: z.record(z.string().regex(/^[a-z_]+(\.[a-z_]+)*$/), Days.unwrap()),
  }),
  /** Conversation messages older than this are deleted; null keeps them. */
  messageRetentionDays: Days,
  /** Response cache scope, overriding ENCLAVE_CACHE_SCOPE once set. */
  cacheScope: z.enum(['user', 'global', 'off']),
  /** Prepended as a system message to chat requests that carry none. Empty: nothing added. */
  defaultSystemPrompt: text().max(20_000),
});
export type RuntimePolicies = z.infer<typeof RuntimePolicies>;

export const POLICIES_SETTING_KEY = 'policies';

export function defaultPolicies(config: Config): RuntimePolicies {
  return {
    auditContent: 'metadata',
    auditRetentionDays: { default: null, byKind: {} },
    messageRetentionDays: null,
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
    await this.reload().catch((err: Error) =>
      this.log.warn({ err: err.message }, 'policies not loaded yet'),
    );
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
