import { Injectable } from '@nestjs/common';
import { queryRows } from '@enclave/db';
import { DataSource, type EntityManager } from 'typeorm';
import type { Role } from './roles.js';

export interface User {
  id: string;
  email: string;
  displayName: string | null;
  role: Role;
  passwordHash: string | null;
  failedLogins: number;
  lockedUntil: Date | null;
  disabledAt: Date | null;
  /** The password was generated (bootstrap, created, reset): the user must choose their own. */
  passwordChangeRequired: boolean;
  /** Set together for a user who signs in through single sign-on (the provider's account). */
  oidcIssuer: string | null;
  oidcSubject: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Arbitrary but fixed (migrations use 7_315_001): the advisory lock around user creation. */
const USER_CREATION_LOCK = 7_315_002;

const COLUMNS = `id, email, display_name AS "displayName", role, password_hash AS "passwordHash",
  failed_logins AS "failedLogins", locked_until AS "lockedUntil", disabled_at AS "disabledAt",
  password_change_required AS "passwordChangeRequired",
  oidc_issuer AS "oidcIssuer", oidc_subject AS "oidcSubject", created_at AS "createdAt", updated_at AS "updatedAt"`;

/**
 * Users: the only code with SQL on `users` besides the other repositories of this lib (sessions
 * and keys join their owner). Other libs and apps ask it, for example for the emails that go
 * with the user ids of their own rows. Methods that change rows take the caller's EntityManager
 * (its transaction).
 */
@Injectable()
export class UsersRepository {
  constructor(private readonly dataSource: DataSource) {}

  async findById(id: string, db: EntityManager = this.dataSource.manager): Promise<User | null> {
    const rows: User[] = await db.query(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  /** Locks the row for the rest of the transaction (changes to an account are made under it). */
  async findByIdForUpdate(id: string, db: EntityManager): Promise<User | null> {
    const rows: User[] = await db.query(`SELECT ${COLUMNS} FROM users WHERE id = $1 FOR UPDATE`, [
      id,
    ]);
    return rows[0] ?? null;
  }

  async findByEmail(
    email: string,
    db: EntityManager = this.dataSource.manager,
  ): Promise<User | null> {
    const rows: User[] = await db.query(`SELECT ${COLUMNS} FROM users WHERE email = $1`, [
      email.trim().toLowerCase(),
    ]);
    return rows[0] ?? null;
  }

  /** Locks the row for the rest of the transaction (sign-in counts failures under it). */
  async findByEmailForUpdate(email: string, db: EntityManager): Promise<User | null> {
    const rows: User[] = await db.query(
      `SELECT ${COLUMNS} FROM users WHERE email = $1 FOR UPDATE`,
      [email.trim().toLowerCase()],
    );
    return rows[0] ?? null;
  }

  /** The user linked to this provider account, locked for the rest of the transaction. */
  async findByOidcLinkForUpdate(
    issuer: string,
    subject: string,
    db: EntityManager,
  ): Promise<User | null> {
    const rows: User[] = await db.query(
      `SELECT ${COLUMNS} FROM users WHERE oidc_issuer = $1 AND oidc_subject = $2 FOR UPDATE`,
      [issuer, subject],
    );
    return rows[0] ?? null;
  }

  /** The emails of the users with these ids; ids of users that do not exist are left out. */
  async emailsOf(
    ids: readonly string[],
    db: EntityManager = this.dataSource.manager,
  ): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows: { id: string; email: string }[] = await db.query(
      'SELECT id, email FROM users WHERE id = ANY($1::uuid[])',
      [[...new Set(ids)]],
    );
    return new Map(rows.map((r) => [r.id, r.email]));
  }

  /** The ids of the users whose email contains `text`, ignoring case (a console search). */
  async idsWithEmailContaining(
    text: string,
    db: EntityManager = this.dataSource.manager,
  ): Promise<string[]> {
    const rows: { id: string }[] = await db.query(
      `SELECT id FROM users WHERE email ILIKE $1 ESCAPE '\\'`,
      [`%${text.replace(/[\\%_]/g, '\\$&')}%`],
    );
    return rows.map((r) => r.id);
  }

  async list(db: EntityManager = this.dataSource.manager): Promise<User[]> {
    return db.query(`SELECT ${COLUMNS} FROM users ORDER BY email`);
  }

  async count(db: EntityManager = this.dataSource.manager): Promise<number> {
    const [{ n }] = await db.query('SELECT count(*)::int AS n FROM users');
    return n;
  }

  /**
   * Serialises user creation until the transaction ends, so "create the first admin when there
   * are no users" can count and insert without another process doing the same in between.
   */
  async lockUserCreation(db: EntityManager): Promise<void> {
    await db.query('SELECT pg_advisory_xact_lock($1)', [USER_CREATION_LOCK]);
  }

  async insert(
    db: EntityManager,
    user: {
      email: string;
      role: Role;
      passwordHash: string | null;
      displayName?: string | null;
      oidc?: { issuer: string; subject: string } | null;
      passwordChangeRequired?: boolean;
    },
  ): Promise<User> {
    const rows: User[] = await db.query(
      `INSERT INTO users (email, role, password_hash, display_name, oidc_issuer, oidc_subject,
                          password_change_required)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [
        user.email.trim().toLowerCase(),
        user.role,
        user.passwordHash,
        user.displayName ?? null,
        user.oidc?.issuer ?? null,
        user.oidc?.subject ?? null,
        user.passwordChangeRequired ?? false,
      ],
    );
    return rows[0]!;
  }

  async update(
    db: EntityManager,
    id: string,
    changes: Partial<
      Pick<
        User,
        | 'role'
        | 'passwordHash'
        | 'displayName'
        | 'disabledAt'
        | 'failedLogins'
        | 'lockedUntil'
        | 'passwordChangeRequired'
      >
    >,
  ): Promise<User | null> {
    const columns: Record<string, string> = {
      role: 'role',
      passwordHash: 'password_hash',
      displayName: 'display_name',
      disabledAt: 'disabled_at',
      failedLogins: 'failed_logins',
      lockedUntil: 'locked_until',
      passwordChangeRequired: 'password_change_required',
    };
    const sets: string[] = [];
    const values: unknown[] = [id];
    for (const [key, value] of Object.entries(changes)) {
      values.push(value);
      sets.push(`${columns[key]} = $${values.length}`);
    }
    const rows = await queryRows<User>(
      db,
      `UPDATE users SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE id = $1 RETURNING ${COLUMNS}`,
      values,
    );
    return rows[0] ?? null;
  }
}
