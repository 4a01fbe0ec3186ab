import { Injectable, Optional } from '@nestjs/common';
import { type AuditActor, AuditLog } from '@enclave/audit';
import { type Config, InjectConfig } from '@enclave/config';
import { ApiError, type RequestMeta } from '@enclave/http';
import { DataSource, type EntityManager } from 'typeorm';
import { isRole, type Role } from './roles.js';
import { checkPasswordStrength } from './password-strength.js';
import { generatePassword, hashPassword, sha256, verifyPassword } from './secrets.js';
import { CredentialCache } from './credential-cache.js';
import { SessionsRepository } from './sessions.repository.js';
import { accountKey, SignInThrottleRepository } from './sign-in-throttle.js';
import { type User, UsersRepository } from './users.repository.js';

/** Who `enclave bootstrap` creates on an empty database. */
export const FIRST_ADMIN_EMAIL = 'admin@enclave.local';

export { MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH } from './password-strength.js';

/** A user as the APIs show it: never the password hash. */
export interface PublicUser {
  id: string;
  email: string;
  displayName: string | null;
  role: Role;
  disabledAt: Date | null;
  lockedUntil: Date | null;
  /** Signed in with a generated password not yet changed. */
  passwordChangeRequired: boolean;
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
    private readonly throttle: SignInThrottleRepository,
    private readonly audit: AuditLog,
    @InjectConfig() private readonly config: Config,
    /** The process's cache of sign-ins (none in the CLI, which serves no requests). */
    @Optional() private readonly credentials?: CredentialCache,
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
    // A generated password is random; one a person chose must not be guessable.
    if (generatedPassword === null) checkPasswordStrength(password, [email]);
    // Hashing takes a while on purpose: do it before the transaction, not inside it.
    const passwordHash = await hashPassword(password);
    try {
      const user = await this.dataSource.transaction(async (db) => {
        await this.users.lockUserCreation(db);
        return this.insert(
          db,
          {
            email,
            role: input.role,
            passwordHash,
            displayName,
            passwordChangeRequired: generatedPassword !== null,
          },
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
        {
          email: FIRST_ADMIN_EMAIL,
          role: 'admin',
          passwordHash,
          displayName: 'Administrator',
          passwordChangeRequired: true,
        },
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
    const updated = await this.dataSource.transaction(async (db) => {
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
    // This process acts on the new role or the disabled account at once (read your writes); the
    // others when the trigger's notification reaches them.
    this.credentials?.invalidate();
    return updated;
  }

  /**
   * Replaces the password with a generated one (returned once, to be changed at the next
   * sign-in), clears the account's sign-in waits and ends the user's sessions, so whoever knew
   * the old password is signed out.
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
      await this.users.update(db, user.id, {
        passwordHash,
        failedLogins: 0,
        lockedUntil: null,
        passwordChangeRequired: true,
      });
      await this.throttle.clear(db, accountKey(user.email));
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
    this.credentials?.invalidate();
    return generatedPassword;
  }

  /**
   * A signed-in user replaces their own password: the current one must be right (a wrong one
   * counts as a failed sign-in), the new one strong and different. Their other sessions end;
   * the one making the change stays. Clears the one-time password requirement.
   */
  async changeOwnPassword(
    userId: string,
    currentPassword: string,
    newPassword: string,
    keepSessionToken: string | null,
    meta: RequestMeta,
  ): Promise<void> {
    const user = await this.users.findById(userId);
    if (!user) throw userNotFound(userId);
    if (!user.passwordHash) {
      throw new ApiError(
        409,
        'no_password',
        'You sign in with single sign-on; change your password with your identity provider.',
      );
    }
    const wait = await this.throttle.waitSeconds([accountKey(user.email)]);
    if (wait > 0) throw tooManyAttempts(wait);
    if (!(await verifyPassword(user.passwordHash, currentPassword))) {
      await this.dataSource.transaction(async (db) => {
        const { accountFreeFailures, maxDelaySeconds } = this.config.auth.signIn;
        await this.throttle.recordFailure(db, accountKey(user.email), {
          freeFailures: accountFreeFailures,
          maxDelaySeconds,
        });
        await this.audit.append(db, {
          actor: { type: 'user', id: user.id, label: user.email },
          action: 'user.password_change_failed',
          target: { type: 'user', id: user.id },
          outcome: 'failure',
          meta,
          payload: { reason: 'wrong_password' },
        });
      });
      throw new ApiError(
        400,
        'wrong_current_password',
        'Your current password is not right; nothing was changed.',
        { param: 'currentPassword' },
      ).markAudited();
    }
    if (newPassword === currentPassword) {
      throw new ApiError(
        400,
        'same_password',
        'Choose a password different from the current one.',
        {
          param: 'newPassword',
        },
      );
    }
    try {
      checkPasswordStrength(newPassword, [user.email, user.displayName ?? '']);
    } catch (err) {
      if (err instanceof ApiError) {
        throw new ApiError(400, err.code, err.message, { param: 'newPassword' });
      }
      throw err;
    }
    const passwordHash = await hashPassword(newPassword);
    await this.dataSource.transaction(async (db) => {
      await this.users.findByIdForUpdate(user.id, db);
      await this.users.update(db, user.id, { passwordHash, passwordChangeRequired: false });
      const sessionsEnded = await this.sessions.deleteForUser(
        db,
        user.id,
        keepSessionToken ? sha256(keepSessionToken) : null,
      );
      await this.throttle.clear(db, accountKey(user.email));
      await this.audit.append(db, {
        actor: { type: 'user', id: user.id, label: user.email },
        action: 'user.password_changed',
        target: { type: 'user', id: user.id },
        outcome: 'success',
        meta,
        payload: {
          email: user.email,
          otherSessionsEnded: sessionsEnded,
          wasOneTime: user.passwordChangeRequired,
        },
      });
    });
    // The ended sessions are refused by this process at once.
    this.credentials?.invalidate();
  }

  private async insert(
    db: EntityManager,
    user: {
      email: string;
      role: Role;
      passwordHash: string;
      displayName: string | null;
      passwordChangeRequired: boolean;
    },
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
    passwordChangeRequired: u.passwordChangeRequired,
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

function tooManyAttempts(seconds: number): ApiError {
  return new ApiError(
    429,
    'too_many_sign_ins',
    `Too many wrong passwords; try again in ${seconds} second${seconds === 1 ? '' : 's'}.`,
    { headers: { 'retry-after': String(seconds) } },
  );
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
