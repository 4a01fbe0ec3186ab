import { Injectable } from '@nestjs/common';
import { AuditLog } from '@enclave/audit';
import { type Config, InjectConfig } from '@enclave/config';
import { ApiError, type RequestMeta } from '@enclave/http';
import { DataSource, type EntityManager } from 'typeorm';
import { CredentialCache } from './credential-cache.js';
import type { Principal } from './principal.js';
import { burnPasswordCheck, randomToken, sha256, verifyPassword } from './secrets.js';
import { SessionsRepository } from './sessions.repository.js';
import {
  accountKey,
  clientKey,
  SignInThrottleRepository,
  type ThrottleRule,
} from './sign-in-throttle.js';
import { type User, UsersRepository } from './users.repository.js';

export interface SignedIn {
  token: string;
  csrfToken: string;
  expiresAt: Date;
  user: Pick<User, 'id' | 'email' | 'role' | 'displayName'>;
  /** The password was generated: the UI must ask for a new one before anything else. */
  passwordChangeRequired: boolean;
}

type Attempt = { ok: true; signedIn: SignedIn } | { ok: false; error: ApiError };

/**
 * Password sign-in, slowed by progressive waits after failures (per account and per client
 * address, never a lock), and the sessions it creates.
 */
@Injectable()
export class SessionService {
  private failuresSinceCleanup = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersRepository,
    private readonly sessions: SessionsRepository,
    private readonly throttle: SignInThrottleRepository,
    private readonly audit: AuditLog,
    @InjectConfig() private readonly config: Config,
    private readonly credentials: CredentialCache,
  ) {}

  async signIn(email: string, password: string, meta: RequestMeta): Promise<SignedIn> {
    const account = accountKey(email);
    const client = clientKey(meta.ip);
    // A wait is answered before the password is looked at, alike for known and unknown accounts,
    // so it neither reveals an account nor lets a guess through. The refusal is audited (and
    // aggregated per client) by the error filter like any other.
    const wait = await this.throttle.waitSeconds([account, client]);
    if (wait > 0) throw tooManySignIns(wait);
    if (++this.failuresSinceCleanup >= 1_000) {
      this.failuresSinceCleanup = 0;
      void this.throttle.forgetOld().catch(() => undefined);
    }

    // The failure counts and the audit event must commit even when the sign-in fails, so the
    // transaction returns the outcome and the error is thrown after it.
    const attempt = await this.dataSource.transaction(async (db): Promise<Attempt> => {
      const user = await this.users.findByEmailForUpdate(email, db);
      const fail = async (reason: string, error: ApiError) => {
        const failures = await this.throttle.recordFailure(db, account, this.accountRule());
        await this.throttle.recordFailure(db, client, this.clientRule());
        await this.audit.append(db, {
          actor: user
            ? { type: 'user', id: user.id, label: user.email }
            : { type: 'anonymous', label: email },
          action: 'auth.login.failed',
          target: user ? { type: 'user', id: user.id } : null,
          outcome: 'failure',
          meta,
          payload: { reason, failures },
        });
        return { ok: false as const, error };
      };
      const wrong = new ApiError(401, 'invalid_credentials', 'The email or password is wrong.');

      if (!user || !user.passwordHash) {
        await burnPasswordCheck(password);
        return fail(user ? 'no_password' : 'unknown_email', wrong);
      }
      if (!(await verifyPassword(user.passwordHash, password))) {
        return fail('wrong_password', wrong);
      }
      if (user.disabledAt) {
        return fail(
          'disabled',
          new ApiError(401, 'account_disabled', 'This account is disabled; ask an administrator.'),
        );
      }

      await this.throttle.clear(db, account);
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

  private accountRule(): ThrottleRule {
    const s = this.config.auth.signIn;
    return { freeFailures: s.accountFreeFailures, maxDelaySeconds: s.maxDelaySeconds };
  }

  private clientRule(): ThrottleRule {
    const s = this.config.auth.signIn;
    return { freeFailures: s.clientFreeFailures, maxDelaySeconds: s.maxDelaySeconds };
  }

  /**
   * A new session for a user already authenticated (by password or single sign-on), in the
   * caller's transaction; the caller audits how the user signed in.
   */
  async startSession(
    db: EntityManager,
    user: Pick<User, 'id' | 'email' | 'role' | 'displayName'> &
      Partial<Pick<User, 'passwordChangeRequired'>>,
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
    return {
      token,
      csrfToken,
      expiresAt,
      user: { id, email, role, displayName },
      passwordChangeRequired: user.passwordChangeRequired ?? false,
    };
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
    // As for a revoked key: this process at once, the others on the trigger's notification.
    this.credentials.invalidate();
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
      passwordChangeRequired: row.passwordChangeRequired,
    };
  }
}

/** 429 `too_many_sign_ins`: the same answer whether or not the account exists. */
export function tooManySignIns(seconds: number): ApiError {
  return new ApiError(
    429,
    'too_many_sign_ins',
    `Too many failed sign-ins; try again in ${seconds} second${seconds === 1 ? '' : 's'}.`,
    { headers: { 'retry-after': String(seconds) } },
  );
}
