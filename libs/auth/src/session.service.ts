import { Injectable } from '@nestjs/common';
import { AuditLog } from '@enclave/audit';
import { type Config, InjectConfig } from '@enclave/config';
import { ApiError, type RequestMeta } from '@enclave/http';
import { DataSource, type EntityManager } from 'typeorm';
import { CredentialCache } from './credential-cache.js';
import type { Principal } from './principal.js';
import { burnPasswordCheck, randomToken, sha256, verifyPassword } from './secrets.js';
import { SessionsRepository } from './sessions.repository.js';
import { type User, UsersRepository } from './users.repository.js';

export interface SignedIn {
  token: string;
  csrfToken: string;
  expiresAt: Date;
  user: Pick<User, 'id' | 'email' | 'role' | 'displayName'>;
}

type Attempt = { ok: true; signedIn: SignedIn } | { ok: false; error: ApiError };

/** Password sign-in with lockout, and the sessions it creates. */
@Injectable()
export class SessionService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersRepository,
    private readonly sessions: SessionsRepository,
    private readonly audit: AuditLog,
    @InjectConfig() private readonly config: Config,
    private readonly credentials: CredentialCache,
  ) {}

  async signIn(email: string, password: string, meta: RequestMeta): Promise<SignedIn> {
    // The failure count and the audit event must commit even when the sign-in fails, so the
    // transaction returns the outcome and the error is thrown after it.
    const attempt = await this.dataSource.transaction(async (db): Promise<Attempt> => {
      const user = await this.users.findByEmailForUpdate(email, db);
      const fail = async (reason: string, error: ApiError, extra: Record<string, unknown> = {}) => {
        await this.audit.append(db, {
          actor: user
            ? { type: 'user', id: user.id, label: user.email }
            : { type: 'anonymous', label: email },
          action: 'auth.login.failed',
          target: user ? { type: 'user', id: user.id } : null,
          outcome: 'failure',
          meta,
          payload: { reason, ...extra },
        });
        return { ok: false as const, error };
      };
      const wrong = new ApiError(401, 'invalid_credentials', 'The email or password is wrong.');

      if (!user || !user.passwordHash) {
        await burnPasswordCheck(password);
        return fail(user ? 'no_password' : 'unknown_email', wrong);
      }
      if (user.lockedUntil && user.lockedUntil.getTime() > Date.now()) {
        return fail('locked', this.lockedError(user.lockedUntil));
      }
      if (!(await verifyPassword(user.passwordHash, password))) {
        const failures = user.failedLogins + 1;
        const lockedUntil =
          failures >= this.config.auth.lockoutThreshold
            ? new Date(Date.now() + this.config.auth.lockoutMinutes * 60_000)
            : null;
        await this.users.recordFailedLogin(db, user.id, lockedUntil);
        return fail('wrong_password', lockedUntil ? this.lockedError(lockedUntil) : wrong, {
          failures,
          lockedUntil,
        });
      }
      if (user.disabledAt) {
        return fail(
          'disabled',
          new ApiError(401, 'account_disabled', 'This account is disabled; ask an administrator.'),
        );
      }

      await this.users.recordSuccessfulLogin(db, user.id);
      const signedIn = await this.startSession(db, user, meta);
      await this.audit.append(db, {
        actor: { type: 'user', id: user.id, label: user.email },
        action: 'auth.login.succeeded',
        target: { type: 'user', id: user.id },
        outcome: 'success',
        meta,
      });
      return { ok: true, signedIn };
    });
    if (!attempt.ok) throw attempt.error.markAudited();
    return attempt.signedIn;
  }

  /**
   * A new session for a user already authenticated (by password or single sign-on), in the
   * caller's transaction; the caller audits how the user signed in.
   */
  async startSession(
    db: EntityManager,
    user: Pick<User, 'id' | 'email' | 'role' | 'displayName'>,
    meta: RequestMeta,
  ): Promise<SignedIn> {
    const token = randomToken();
    const csrfToken = randomToken();
    const expiresAt = new Date(Date.now() + this.config.auth.sessionTtlHours * 3_600_000);
    await this.sessions.insert(db, {
      tokenHash: sha256(token),
      userId: user.id,
      csrfToken,
      expiresAt,
      ip: meta.ip,
      userAgent: meta.userAgent,
    });
    const { id, email, role, displayName } = user;
    return { token, csrfToken, expiresAt, user: { id, email, role, displayName } };
  }

  async signOut(token: string, meta: RequestMeta): Promise<void> {
    await this.dataSource.transaction(async (db) => {
      const userId = await this.sessions.delete(db, sha256(token));
      if (!userId) return;
      await this.audit.append(db, {
        actor: { type: 'user', id: userId },
        action: 'auth.logout',
        target: { type: 'user', id: userId },
        outcome: 'success',
        meta,
      });
    });
  }

  /** The principal of a live session, or null when the token is unknown or expired. */
  async resolve(token: string): Promise<Principal | null> {
    const tokenHash = sha256(token);
    const row = await this.credentials.session(tokenHash);
    if (!row || row.userDisabledAt) return null;
    this.credentials.touchSession(tokenHash, row);
    return {
      userId: row.userId,
      email: row.email,
      role: row.role,
      via: 'session',
      apiKey: null,
      session: { csrfToken: row.csrfToken },
    };
  }

  private lockedError(until: Date): ApiError {
    const seconds = Math.max(1, Math.ceil((until.getTime() - Date.now()) / 1000));
    return new ApiError(
      423,
      'account_locked',
      `Too many failed sign-ins; this account is locked until ${until.toISOString()}.`,
      { type: 'permission_error', headers: { 'retry-after': String(seconds) } },
    );
  }
}
