import { Injectable } from '@nestjs/common';
import { ApiError } from '@enclave/http';
import { ApiKeysRepository } from './api-keys.repository.js';
import type { Principal } from './principal.js';
import { parseApiKey, sameHash, sha256 } from './secrets.js';

/** last_used_at is written at most this often per key, to keep writes off the request path. */
const TOUCH_EVERY_MS = 60_000;

@Injectable()
export class ApiKeyService {
  constructor(private readonly keys: ApiKeysRepository) {}

  /** The principal behind an API key, or a 401 ApiError saying what is wrong with the key. */
  async authenticate(key: string): Promise<Principal> {
    const parsed = parseApiKey(key);
    const row = parsed ? await this.keys.findForAuthentication(parsed.prefix) : null;
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
    if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > TOUCH_EVERY_MS) {
      void this.keys.touch(row.id).catch(() => undefined);
    }
    return {
      userId: row.userId,
      email: row.email,
      role: row.role,
      via: 'api_key',
      apiKey: { id: row.id, prefix: row.prefix, models: row.models },
      session: null,
    };
  }
}
