import { Injectable } from '@nestjs/common';
import { queryRows } from '@enclave/db';
import { DataSource, type EntityManager } from 'typeorm';
import type { Role } from './roles.js';

export interface SessionRow {
  userId: string;
  csrfToken: string;
  expiresAt: Date;
  lastSeenAt: Date;
  email: string;
  role: Role;
  userDisabledAt: Date | null;
}

/** Sign-in sessions, keyed by the SHA-256 of the cookie's token (the token itself is never stored). */
@Injectable()
export class SessionsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(
    db: EntityManager,
    s: {
      tokenHash: Buffer;
      userId: string;
      csrfToken: string;
      expiresAt: Date;
      ip: string | null;
      userAgent: string | null;
    },
  ): Promise<void> {
    await db.query(
      `INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, ip, user_agent)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [s.tokenHash, s.userId, s.csrfToken, s.expiresAt, s.ip, s.userAgent],
    );
  }

  async findLive(tokenHash: Buffer): Promise<SessionRow | null> {
    const rows: SessionRow[] = await this.dataSource.query(
      `SELECT s.user_id AS "userId", s.csrf_token AS "csrfToken", s.expires_at AS "expiresAt",
              s.last_seen_at AS "lastSeenAt", u.email, u.role, u.disabled_at AS "userDisabledAt"
         FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.token_hash = $1 AND s.expires_at > now()`,
      [tokenHash],
    );
    return rows[0] ?? null;
  }

  /** Marks sessions as seen now, in one statement for all of them. */
  async touchMany(tokenHashes: Buffer[]): Promise<void> {
    await this.dataSource.query(
      'UPDATE sessions SET last_seen_at = now() WHERE token_hash = ANY($1::bytea[])',
      [tokenHashes],
    );
  }

  /** Returns the user id of the deleted session, if there was one. */
  async delete(db: EntityManager, tokenHash: Buffer): Promise<string | null> {
    const rows = await queryRows<{ userId: string }>(
      db,
      'DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id AS "userId"',
      [tokenHash],
    );
    return rows[0]?.userId ?? null;
  }

  async deleteForUser(db: EntityManager, userId: string): Promise<number> {
    const rows = await queryRows(db, 'DELETE FROM sessions WHERE user_id = $1 RETURNING 1', [
      userId,
    ]);
    return rows.length;
  }
}
