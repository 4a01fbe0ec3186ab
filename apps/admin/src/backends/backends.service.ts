import { Injectable } from '@nestjs/common';
import { AuditLog } from '@enclave/audit';
import { type Principal, principalActor } from '@enclave/auth';
import { type Config, InjectConfig } from '@enclave/config';
import { notifyConfigChanged } from '@enclave/db';
import { ApiError, type RequestMeta } from '@enclave/http';
import { type BackendRow, BackendsRepository, SecretBox, UpstreamPool } from '@enclave/llm';
import { DataSource, type EntityManager } from 'typeorm';
import { checkBackendUrl } from './backend-url.js';
import type { CreateBackend, UpdateBackend } from '@enclave/contracts';

/** A backend as the console shows it: never its API key, only whether it has one. */
function publicBackend(row: BackendRow) {
  const { apiKeySealed, ...rest } = row;
  return { ...rest, hasApiKey: apiKeySealed !== null };
}

/**
 * Adding, changing and removing LLM backends. Each change is one transaction: the row, its audit
 * event (before and after), and the notification that makes every chat instance reload.
 */
@Injectable()
export class BackendsService {
  private readonly box: SecretBox;
  private readonly allowedHosts: string[];

  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: BackendsRepository,
    private readonly pool: UpstreamPool,
    private readonly audit: AuditLog,
    @InjectConfig() config: Config,
  ) {
    this.box = SecretBox.fromConfig(config);
    this.allowedHosts = config.backendAllowedHosts;
  }

  async list() {
    const status = await this.pool.statusAcrossInstances();
    const health = new Map(status.map((s) => [s.name, s]));
    return (await this.repo.list()).map((row) => ({
      ...publicBackend(row),
      health: health.get(row.name) ?? null,
    }));
  }

  async create(input: CreateBackend, who: Principal, meta: RequestMeta) {
    await checkBackendUrl(input.baseUrl, this.allowedHosts);
    const row = await this.change(who, meta, 'admin.backend.created', async (db) => {
      const created = await this.repo.insert(db, {
        name: input.name,
        baseUrl: input.baseUrl,
        apiKeySealed: input.apiKey ? this.box.seal(input.apiKey) : null,
        models: input.models ?? null,
        weight: input.weight ?? 1,
        maxConcurrent: input.maxConcurrent ?? 256,
        timeoutMs: input.timeoutMs ?? 60_000,
        enabled: input.enabled ?? true,
        responsesApi: input.responsesApi ?? false,
      });
      if (!created)
        throw new ApiError(
          409,
          'backend_name_taken',
          `A backend named '${input.name}' exists already.`,
        );
      return { before: null, after: created };
    });
    await this.pool.reload();
    return publicBackend(row);
  }

  async update(id: string, input: UpdateBackend, who: Principal, meta: RequestMeta) {
    if (input.baseUrl !== undefined) await checkBackendUrl(input.baseUrl, this.allowedHosts);
    const row = await this.change(who, meta, 'admin.backend.updated', async (db) => {
      const before = await this.repo.get(id, db);
      if (!before) throw notFound(id);
      const { apiKey, ...fields } = input;
      // The stored key was given for one server: it is never sent to another one unasked.
      if (
        input.baseUrl !== undefined &&
        before.apiKeySealed !== null &&
        apiKey === undefined &&
        new URL(input.baseUrl).origin !== new URL(before.baseUrl).origin
      ) {
        throw new ApiError(
          400,
          'api_key_required',
          'Moving a backend to another server (scheme, host or port) needs its API key again: send apiKey with the new baseUrl (null for none).',
          { param: 'apiKey' },
        );
      }
      const after = await this.repo.update(db, id, {
        ...fields,
        ...(apiKey !== undefined ? { apiKeySealed: apiKey ? this.box.seal(apiKey) : null } : {}),
      });
      return { before, after: after! };
    });
    await this.pool.reload();
    return publicBackend(row);
  }

  async remove(id: string, who: Principal, meta: RequestMeta): Promise<void> {
    await this.change(who, meta, 'admin.backend.deleted', async (db) => {
      const before = await this.repo.delete(db, id);
      if (!before) throw notFound(id);
      return { before, after: null };
    });
    await this.pool.reload();
  }

  /** Health-checks the backend now and says what it found. */
  async test(id: string) {
    const row = await this.repo.get(id);
    if (!row) throw notFound(id);
    await this.pool.reload();
    await this.pool.checkHealth();
    return this.pool.status().find((s) => s.name === row.name) ?? null;
  }

  /** Every alias and the model it stands for, by alias. */
  async aliases(): Promise<{ alias: string; model: string }[]> {
    return [...(await this.repo.aliases())]
      .map(([alias, model]) => ({ alias, model }))
      .sort((a, b) => a.alias.localeCompare(b.alias));
  }

  async setAlias(
    alias: string,
    model: string | null,
    who: Principal,
    meta: RequestMeta,
  ): Promise<void> {
    await this.dataSource.transaction(async (db) => {
      const before = (await this.repo.aliases(db)).get(alias) ?? null;
      await this.repo.setAlias(db, alias, model);
      await this.audit.append(db, {
        actor: principalActor(who),
        action: 'admin.alias.updated',
        target: { type: 'model_alias', id: alias },
        outcome: 'success',
        meta,
        payload: { before, after: model },
      });
      await notifyConfigChanged(db, 'backends');
    });
    await this.pool.reload();
  }

  private async change(
    who: Principal,
    meta: RequestMeta,
    action: string,
    work: (db: EntityManager) => Promise<{ before: BackendRow | null; after: BackendRow | null }>,
  ): Promise<BackendRow> {
    return this.dataSource.transaction(async (db) => {
      const { before, after } = await work(db);
      const row = (after ?? before)!;
      await this.audit.append(db, {
        actor: principalActor(who),
        action,
        target: { type: 'backend', id: row.id },
        outcome: 'success',
        meta,
        payload: {
          before: before ? publicBackend(before) : null,
          after: after ? publicBackend(after) : null,
        },
      });
      await notifyConfigChanged(db, 'backends');
      return row;
    });
  }
}

function notFound(id: string): ApiError {
  return new ApiError(404, 'backend_not_found', `No backend with id ${id}.`);
}
