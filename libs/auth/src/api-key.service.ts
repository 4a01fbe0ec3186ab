import { Injectable } from '@nestjs/common';
import { type AuditActor, AuditLog } from '@enclave/audit';
import { API_KEY_PREFIX_PATTERN, apiKeyPrefix } from '@enclave/contracts';
import { ApiError, type RequestMeta } from '@enclave/http';
import { DataSource } from 'typeorm';
import { type ApiKey, ApiKeysRepository } from './api-keys.repository.js';
import { CredentialCache } from './credential-cache.js';
import type { Principal } from './principal.js';
import { generateApiKey, sameHash, sha256 } from './secrets.js';
import { userNotFound } from './users.service.js';
import { UsersRepository } from './users.repository.js';

const MAX_NAME_LENGTH = 100;
const MAX_MODELS = 100;
const MAX_MODEL_LENGTH = 200;

/** An API key as the APIs show it: never its secret hash, and the key itself only once. */
export type PublicApiKey = Omit<ApiKey, 'userId'>;

export interface NewApiKey {
  name: string;
  /** The models the key may use; null for every model the owner may use. */
  models: string[] | null;
  expiresAt: Date | null;
}

export interface CreatedApiKey {
  /** The key itself: shown this once, stored only as its SHA-256. */
  key: string;
  apiKey: PublicApiKey;
}

/** API keys: authenticating requests, and creating, listing and revoking keys (audited). */
@Injectable()
export class ApiKeyService {
  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly users: UsersRepository,
    private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
    private readonly credentials: CredentialCache,
  ) {}

  /** The principal behind an API key, or a 401 ApiError saying what is wrong with the key. */
  async authenticate(key: string): Promise<Principal> {
    const prefix = apiKeyPrefix(key);
    const row = prefix ? await this.credentials.apiKey(prefix) : null;
    if (!row || !sameHash(sha256(key), row.secretHash)) {
      throw new ApiError(
        401,
        'invalid_api_key',
        'The API key is not valid. Check it was copied whole.',
      );
    }
    if (row.revokedAt) {
      throw new ApiError(
        401,
        'revoked_api_key',
        `The API key ${row.prefix} was revoked on ${row.revokedAt.toISOString()}; create a new one.`,
      );
    }
    if (row.expiresAt && row.expiresAt.getTime() <= Date.now()) {
      throw new ApiError(
        401,
        'expired_api_key',
        `The API key ${row.prefix} expired on ${row.expiresAt.toISOString()}; create a new one.`,
      );
    }
    if (row.userDisabledAt) {
      throw new ApiError(
        401,
        'account_disabled',
        'The account that owns this API key is disabled.',
      );
    }
    this.credentials.touchKey(row);
    return {
      userId: row.userId,
      email: row.email,
      role: row.role,
      via: 'api_key',
      apiKey: { id: row.id, prefix: row.prefix, models: row.models },
      session: null,
    };
  }

  async create(
    ownerUserId: string,
    input: NewApiKey,
    actor: AuditActor,
    meta: RequestMeta | null,
  ): Promise<CreatedApiKey> {
    const name = checkName(input.name);
    const models = checkModels(input.models);
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
      throw new ApiError(400, 'invalid_expiry', 'The expiry must be in the future.', {
        param: 'expiresIn',
      });
    }
    return this.dataSource.transaction(async (db) => {
      const owner = await this.users.findByIdForUpdate(ownerUserId, db);
      if (!owner) throw userNotFound(ownerUserId);
      if (owner.disabledAt) {
        throw new ApiError(
          409,
          'user_disabled',
          `${owner.email} is disabled, so a key would not work; enable the account first.`,
        );
      }
      // The prefix has 32 random bits: a clash is rare, but must not become a 500.
      for (let attempt = 0; ; attempt++) {
        const { key, prefix, secretHash } = generateApiKey();
        const row = {
          userId: owner.id,
          name,
          prefix,
          secretHash,
          models,
          expiresAt: input.expiresAt,
        };
        const apiKey = await this.keys.insertIfPrefixFree(db, row);
        if (!apiKey) {
          if (attempt < 3) continue;
          throw new Error('could not find a free API key prefix');
        }
        await this.audit.append(db, {
          actor,
          action: 'api_key.created',
          target: { type: 'api_key', id: apiKey.id },
          outcome: 'success',
          meta,
          payload: {
            prefix,
            name,
            models,
            expiresAt: input.expiresAt,
            owner: { id: owner.id, email: owner.email },
          },
        });
        return { key, apiKey: publicApiKey(apiKey) };
      }
    });
  }

  /**
   * Revokes a key by its prefix. With ownerUserId, only that user's key: anyone else's is
   * answered as if it did not exist.
   */
  async revoke(
    prefix: string,
    actor: AuditActor,
    meta: RequestMeta | null,
    opts: { ownerUserId?: string } = {},
  ): Promise<PublicApiKey> {
    if (!API_KEY_PREFIX_PATTERN.test(prefix)) {
      throw new ApiError(
        400,
        'invalid_prefix',
        `'${prefix}' is not an API key prefix; it looks like ek_1a2b3c4d (the key's first 11 characters).`,
        { param: 'prefix' },
      );
    }
    const result = await this.dataSource.transaction(async (db) => {
      const existing = await this.keys.findByPrefix(prefix, db);
      if (!existing || (opts.ownerUserId !== undefined && existing.userId !== opts.ownerUserId)) {
        throw new ApiError(
          404,
          'api_key_not_found',
          `There is no API key ${prefix}${opts.ownerUserId ? ' of yours' : ''}.`,
        );
      }
      const revoked = existing.revokedAt ? null : await this.keys.revoke(db, prefix);
      if (!revoked) {
        throw new ApiError(
          409,
          'api_key_already_revoked',
          `The API key ${prefix} is already revoked.`,
        );
      }
      const owner = await this.users.findById(existing.userId, db);
      await this.audit.append(db, {
        actor,
        action: 'api_key.revoked',
        target: { type: 'api_key', id: existing.id },
        outcome: 'success',
        meta,
        payload: {
          prefix,
          name: existing.name,
          owner: { id: existing.userId, email: owner?.email ?? null },
        },
      });
      return publicApiKey(revoked);
    });
    // This process forgets the key at once (its next request is refused); the others when the
    // trigger's notification reaches them.
    this.credentials.invalidate();
    return result;
  }

  /** The user's keys, newest first, revoked and expired ones included. */
  async listForUser(userId: string): Promise<PublicApiKey[]> {
    if (!(await this.users.findById(userId))) throw userNotFound(userId);
    return (await this.keys.listForUser(userId)).map(publicApiKey);
  }
}

export function publicApiKey(k: ApiKey): PublicApiKey {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    models: k.models,
    expiresAt: k.expiresAt,
    revokedAt: k.revokedAt,
    lastUsedAt: k.lastUsedAt,
    createdAt: k.createdAt,
  };
}

function checkName(raw: string): string {
  const name = raw.trim();
  if (!name || name.length > MAX_NAME_LENGTH) {
    throw new ApiError(
      400,
      'invalid_name',
      `An API key needs a name of 1 to ${MAX_NAME_LENGTH} characters, e.g. what uses it.`,
      { param: 'name' },
    );
  }
  return name;
}

function checkModels(raw: string[] | null): string[] | null {
  if (raw === null) return null;
  const models = [...new Set(raw.map((m) => m.trim()))];
  if (
    models.length === 0 ||
    models.length > MAX_MODELS ||
    models.some((m) => !m || m.length > MAX_MODEL_LENGTH)
  ) {
    throw new ApiError(
      400,
      'invalid_models',
      `List 1 to ${MAX_MODELS} model names, or leave models out to allow every model.`,
      { param: 'models' },
    );
  }
  return models;
}
