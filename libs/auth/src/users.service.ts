import { Injectable } from '@nestjs/common';
import { type AuditActor, AuditLog } from '@enclave/audit';
import { ApiError, type RequestMeta } from '@enclave/http';
import { DataSource, type EntityManager } from 'typeorm';
import { isRole, type Role } from './roles.js';
import { generatePassword, hashPassword } from './secrets.js';
import { SessionsRepository } from './sessions.repository.js';
import { type User, UsersRepository } from './users.repository.js';

/** Who `enclave bootstrap` creates on an empty database. */
export const FIRST_ADMIN_EMAIL = 'admin@enclave.local';

export const MIN_PASSWORD_LENGTH = 12;
/** Sign-in accepts passwords up to this length, so longer ones could never be used. */
export const MAX_PASSWORD_LENGTH = 1024;

/** A user as the APIs show it: never the password hash. */
export interface PublicUser {
  id: string;
  email: string;
  displayName: string | null;
  role: Role;
  disabledAt: Date | null;
  lockedUntil: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewUser {
  email: string;
  role: Role;
  /** Absent or null: one is generated and returned once. */
  password?: string | null;
  displayName?: string | null;
}

export interface CreatedUser {
  user: PublicUser;
  /** The generated password, shown once; null when the caller chose the password. */
  generatedPassword: string | null;
}

export interface UserChanges {
  role?: Role;
  disabled?: boolean;
}

// Local part without spaces or @, then dot-separated domain labels; intranet domains without a
// TLD (alice@corp) are fine on premises.
const EMAIL_PATTERN = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)*$/;

/** Accounts: creation, role, disabling and password resets, each audited with the change. */
@Injectable()
export class UsersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersRepository,
    private readonly sessions: SessionsRepository,
    private readonly audit: AuditLog,
  ) {}

  async list(): Promise<PublicUser[]> {
    return (await this.users.list()).map(publicUser);
  }

  async get(id: string): Promise<PublicUser> {
    const user = await this.users.findById(id);
    if (!user) throw userNotFound(id);
    return publicUser(user);
  }

  async create(input: NewUser, actor: AuditActor, meta: RequestMeta | null): Promise<CreatedUser> {
    const email = normaliseEmail(input.email);
    if (!isRole(input.role)) {
      throw new ApiError(
        400,
        'invalid_role',
        `'${String(input.role)}' is not a role; use user, auditor or admin.`,
        {
          param: 'role',
        },
      );
    }
    const displayName = input.displayName?.trim() || null;
    if (await this.users.findByEmail(email)) throw emailTaken(email);
    const generatedPassword = input.password == null ? generatePassword() : null;
    const password = input.password ?? generatedPassword!;
    checkPassword(password);
    // Hashing takes a while on purpose: do it before the transaction, not inside it.
    const passwordHash = await hashPassword(password);
    try {
      const user = await this.dataSource.transaction(async (db) => {
        await this.users.lockUserCreation(db);
        return this.insert(
          db,
          { email, role: input.role, passwordHash, displayName },
          actor,
          meta,
          {
            passwordGenerated: generatedPassword !== null,
          },
        );
      });
      return { user, generatedPassword };
    } catch (err) {
      // Another request created the same email between the check above and the insert.
      if (isUniqueViolation(err)) throw emailTaken(email);
      throw err;
    }
  }

  /**
   * Creates the first administrator (FIRST_ADMIN_EMAIL, generated password) when there are no
   * users at all; null otherwise. Safe when several processes run it at once: the count is
   * checked again under the user-creation lock.
   */
  async createFirstAdmin(actor: AuditActor): Promise<CreatedUser | null> {
    if ((await this.users.count()) > 0) return null;
    const generatedPassword = generatePassword();
    const passwordHash = await hashPassword(generatedPassword);
    const user = await this.dataSource.transaction(async (db) => {
      await this.users.lockUserCreation(db);
      if ((await this.users.count(db)) > 0) return null;
      return this.insert(
        db,
        { email: FIRST_ADMIN_EMAIL, role: 'admin', passwordHash, displayName: 'Administrator' },
        actor,
        null,
        { passwordGenerated: true, firstAdmin: true },
      );
    });
    return user && { user, generatedPassword };
  }

  async setRole(
    userId: string,
    role: Role,
    actor: AuditActor,
    meta: RequestMeta | null,
  ): Promise<PublicUser> {
    return this.update(userId, { role }, actor, meta);
  }

  /** Disabling also ends the user's sessions; their API keys are refused while disabled. */
  async setDisabled(
    userId: string,
    disabled: boolean,
    actor: AuditActor,
    meta: RequestMeta | null,
  ): Promise<PublicUser> {
    return this.update(userId, { disabled }, actor, meta);
  }

  /**
   * Changes role and/or disabled state in one transaction, auditing each real change (a value
   * that is already so is no change). Nobody may demote or disable themself, so the admin making
   * the change is always left an admin.
   */
  async update(
    userId: string,
    changes: UserChanges,
    actor: AuditActor,
    meta: RequestMeta | null,
  ): Promise<PublicUser> {
    return this.dataSource.transaction(async (db) => {
      let user = await this.users.findByIdForUpdate(userId, db);
      if (!user) throw userNotFound(userId);
      const newRole =
        changes.role !== undefined && changes.role !== user.role ? changes.role : null;
      const disabling = changes.disabled === true && !user.disabledAt;
      const enabling = changes.disabled === false && !!user.disabledAt;
      if (actor.id === user.id && (newRole || changes.disabled === true)) {
        throw new ApiError(
          409,
          'cannot_change_own_account',
          'You cannot change your own role or disable your own account; ask another administrator.',
        );
      }
      const target = { type: 'user', id: user.id };
      if (newRole) {
        const before = user.role;
        user = (await this.users.update(db, user.id, { role: newRole }))!;
        await this.audit.append(db, {
          actor,
          action: 'user.role_changed',
          target,
          outcome: 'success',
          meta,
          payload: { before, after: newRole },
        });
      }
      if (disabling) {
        user = (await this.users.update(db, user.id, { disabledAt: new Date() }))!;
        const sessionsEnded = await this.sessions.deleteForUser(db, user.id);
        await this.audit.append(db, {
          actor,
          action: 'user.disabled',
          target,
          outcome: 'success',
          meta,
          payload: { email: user.email, sessionsEnded },
        });
      } else if (enabling) {
        user = (await this.users.update(db, user.id, { disabledAt: null }))!;
        await this.audit.append(db, {
          actor,
          action: 'user.enabled',
          target,
          outcome: 'success',
          meta,
          payload: { email: user.email },
        });
      }
      return publicUser(user);
    });
  }

  /**
   * Replaces the password with a generated one (returned once), lifts a lockout and ends the
   * user's sessions, so whoever knew the old password is signed out.
   */
  async resetPassword(
    userId: string,
    actor: AuditActor,
    meta: RequestMeta | null,
  ): Promise<string> {
    const generatedPassword = generatePassword();
    const passwordHash = await hashPassword(generatedPassword);
    await this.dataSource.transaction(async (db) => {
      const user = await this.users.findByIdForUpdate(userId, db);
      if (!user) throw userNotFound(userId);
      await this.users.update(db, user.id, { passwordHash, failedLogins: 0, lockedUntil: null });
      const sessionsEnded = await this.sessions.deleteForUser(db, user.id);
      await this.audit.append(db, {
        actor,
        action: 'user.password_reset',
        target: { type: 'user', id: user.id },
        outcome: 'success',
        meta,
        payload: { email: user.email, sessionsEnded },
      });
    });
    return generatedPassword;
  }

  private async insert(
    db: EntityManager,
    user: { email: string; role: Role; passwordHash: string; displayName: string | null },
    actor: AuditActor,
    meta: RequestMeta | null,
    extra: Record<string, unknown>,
  ): Promise<PublicUser> {
    const created = await this.users.insert(db, user);
    await this.audit.append(db, {
      actor,
      action: 'user.created',
      target: { type: 'user', id: created.id },
      outcome: 'success',
      meta,
      payload: { email: created.email, role: created.role, ...extra },
    });
    return publicUser(created);
  }
}

export function publicUser(u: User): PublicUser {
  return {
    id: u.id,
    email: u.email,
    displayName: u.displayName,
    role: u.role,
    disabledAt: u.disabledAt,
    lockedUntil: u.lockedUntil,
    createdAt: u.createdAt,
    updatedAt: u.updatedAt,
  };
}

export function userNotFound(id: string): ApiError {
  return new ApiError(404, 'user_not_found', `There is no user with id ${id}.`);
}

function normaliseEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (email.length > 320 || !EMAIL_PATTERN.test(email)) {
    throw new ApiError(400, 'invalid_email', `'${raw}' is not an email address (name@domain).`, {
      param: 'email',
    });
  }
  return email;
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new ApiError(
      400,
      'weak_password',
      `A password needs at least ${MIN_PASSWORD_LENGTH} characters; leave it out to have one generated.`,
      { param: 'password' },
    );
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new ApiError(
      400,
      'password_too_long',
      `A password can have at most ${MAX_PASSWORD_LENGTH} characters.`,
      { param: 'password' },
    );
  }
}

function emailTaken(email: string): ApiError {
  return new ApiError(409, 'email_taken', `There is already a user with email ${email}.`, {
    param: 'email',
  });
}

function isUniqueViolation(err: unknown): boolean {
  const driverError = (err as { driverError?: { code?: unknown } } | null)?.driverError;
  return driverError?.code === '23505';
}
