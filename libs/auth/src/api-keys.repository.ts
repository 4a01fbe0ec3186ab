import { Injectable } from '@nestjs/common';
import { queryRows } from '@enclave/db';
import { DataSource, type EntityManager } from 'typeorm';
import type { Role } from './roles.js';

export interface ApiKey {
  id: string;
  userId: string;
  name: string;
  prefix: string;
  models: string[] | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  createdAt: Date;
}

export interface ApiKeyForAuthentication extends Pick<
  ApiKey,
  'id' | 'userId' | 'prefix' | 'models' | 'expiresAt' | 'revokedAt' | 'lastUsedAt'
> {
  secretHash: Buffer;
  email: string;
  role: Role;
  userDisabledAt: Date | null;
}

const COLUMNS = `id, user_id AS "userId", name, prefix, models, expires_at AS "expiresAt",
  revoked_at AS "revokedAt", last_used_at AS "lastUsedAt", created_at AS "createdAt"`;

@Injectable()
export class ApiKeysRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The key with what authentication needs of its owner, in one round trip. */
  async findForAuthentication(prefix: string): Promise<ApiKeyForAuthentication | null> {
    const rows: ApiKeyForAuthentication[] = await this.dataSource.query(
      `SELECT k.id, k.user_id AS "userId", k.prefix, k.models, k.expires_at AS "expiresAt",
              k.revoked_at AS "revokedAt", k.last_used_at AS "lastUsedAt",
              k.secret_hash AS "secretHash", u.email, u.role, u.disabled_at AS "userDisabledAt"
         FROM api_keys k JOIN users u ON u.id = k.user_id
        WHERE k.prefix = $1`,
      [prefix],
    );
    return rows[0] ?? null;
  }

  async findByPrefix(
    prefix: string,
    db: EntityManager = this.dataSource.manager,
  ): Promise<ApiKey | null> {
    const rows: ApiKey[] = await db.query(`SELECT ${COLUMNS} FROM api_keys WHERE prefix = $1`, [
      prefix,
    ]);
    return rows[0] ?? null;
  }

  async listForUser(
    userId: string,
    db: EntityManager = this.dataSource.manager,
  ): Promise<ApiKey[]> {
    return db.query(`SELECT ${COLUMNS} FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC`, [
      userId,
    ]);
  }

  async insert(
    db: EntityManager,
    k: {
      userId: string;
      name: string;
      prefix: string;
      secretHash: Buffer;
      models: string[] | null;
      expiresAt: Date | null;
    },
  ): Promise<ApiKey> {
    const rows: ApiKey[] = await db.query(
      `INSERT INTO api_keys (user_id, name, prefix, secret_hash, models, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [k.userId, k.name, k.prefix, k.secretHash, k.models, k.expiresAt],
    );
    return rows[0]!;
  }

  /** Like insert(), but null instead of an error when the prefix is taken (32 random bits). */
  async insertIfPrefixFree(
    db: EntityManager,
    k: Parameters<ApiKeysRepository['insert']>[1],
  ): Promise<ApiKey | null> {
    const rows: ApiKey[] = await db.query(
      `INSERT INTO api_keys (user_id, name, prefix, secret_hash, models, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (prefix) DO NOTHING RETURNING ${COLUMNS}`,
      [k.userId, k.name, k.prefix, k.secretHash, k.models, k.expiresAt],
    );
    return rows[0] ?? null;
  }

  /** Revokes a live key; null when there is no such key or it was already revoked. */
  async revoke(db: EntityManager, prefix: string): Promise<ApiKey | null> {
    const rows = await queryRows<ApiKey>(
      db,
      `UPDATE api_keys SET revoked_at = now() WHERE prefix = $1 AND revoked_at IS NULL
       RETURNING ${COLUMNS}`,
      [prefix],
    );
    return rows[0] ?? null;
  }

  /** The prefixes of the keys with these ids (to name a key in an audit actor's label). */
  async prefixesOf(
    ids: readonly string[],
    db: EntityManager = this.dataSource.manager,
  ): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows: { id: string; prefix: string }[] = await db.query(
      'SELECT id, prefix FROM api_keys WHERE id = ANY($1::uuid[])',
      [[...new Set(ids)]],
    );
    return new Map(rows.map((r) => [r.id, r.prefix]));
  }

  /** Marks keys as used now, in one statement for all of them. */
  async touchMany(ids: string[]): Promise<void> {
    await this.dataSource.query(
      'UPDATE api_keys SET last_used_at = now() WHERE id = ANY($1::uuid[])',
      [ids],
    );
  }
}
