import { Injectable } from '@nestjs/common';
import { type AuditActor, AuditLog } from '@enclave/audit';
import { ApiError, type RequestMeta } from '@enclave/http';
import { DataSource, type EntityManager } from 'typeorm';
import { randomToken, sha256 } from '../secrets.js';
import { SessionService, type SignedIn } from '../session.service.js';
import { UsersRepository } from '../users.repository.js';
import { GroupsService } from '../groups/groups.service.js';
import { OidcClient, type OidcIdentity } from './oidc-client.js';
import { OidcLoginsRepository } from './oidc-logins.repository.js';
import { groupsFromClaim, roleFromClaim, claimValues } from './role-mapping.js';

/** How long a browser may take at the provider before the sign-in has to start over. */
export const PENDING_LOGIN_SECONDS = 600;

/** Who changes an SSO user's role in the audit trail: the provider's claim, applied at sign-in. */
const SSO_ACTOR: AuditActor = { type: 'system', label: 'sso' };

// Same shape as local accounts (users.service.ts); the provider's email is only a label here.
const EMAIL_PATTERN = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)*$/;

export type SsoOutcome =
  | { ok: true; signedIn: SignedIn; returnTo: string }
  | { ok: false; error: ApiError; title: string };

/**
 * Single sign-on: the redirect to the OpenID provider, and its callback, which maps the role
 * claim, creates the user just in time (or brings a known user's role up to date) and starts an
 * ordinary Enclave session. Users are linked by issuer + subject, never by email alone.
 */
@Injectable()
export class SsoService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly client: OidcClient,
    private readonly logins: OidcLoginsRepository,
    private readonly users: UsersRepository,
    private readonly sessions: SessionService,
    private readonly audit: AuditLog,
    private readonly groups: GroupsService,
  ) {}

  /** The provider's URL to send the browser to, and the token its cookie must carry back. */
  async start(returnTo: string): Promise<{ redirectTo: string; bindingToken: string }> {
    const { url, checks } = await this.client.authorizationUrl();
    const bindingToken = randomToken();
    await this.logins.insert(sha256(bindingToken), { ...checks, returnTo }, PENDING_LOGIN_SECONDS);
    return { redirectTo: url.href, bindingToken };
  }

  /**
   * Finishes a sign-in from the provider's callback. Every refusal is audited
   * (`auth.sso.refused`) and returned, not thrown, so the caller can show a page.
   */
  async finish(
    callbackQuery: string,
    bindingToken: string | null,
    meta: RequestMeta,
  ): Promise<SsoOutcome> {
    // The cookie ties the callback to the browser that started the sign-in: a callback URL
    // sent to someone else (login CSRF) finds no pending sign-in.
    const pending = bindingToken ? await this.logins.take(sha256(bindingToken)) : null;
    const state = new URLSearchParams(callbackQuery).get('state');
    if (!pending || pending.state !== state) {
      return this.refuse(this.dataSource.manager, null, meta, {
        reason: pending ? 'state_mismatch' : 'no_pending_login',
        title: 'Sign-in expired',
        error: new ApiError(
          400,
          'sso_state_invalid',
          'This sign-in was not started in this browser, was already used, or took longer than 10 minutes. Start signing in again.',
        ),
      });
    }
    let identity: OidcIdentity;
    try {
      identity = await this.client.redeem(callbackQuery, pending);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      return this.refuse(this.dataSource.manager, null, meta, {
        reason: err.code,
        title: 'Single sign-on failed',
        error: err,
      });
    }
    return this.dataSource.transaction((db) => this.signIn(db, identity, pending.returnTo, meta));
  }

  /** Audits a sign-in that failed before reaching the provider (bad returnTo, provider down). */
  async recordRefusal(error: ApiError, meta: RequestMeta): Promise<void> {
    await this.refuse(this.dataSource.manager, null, meta, {
      reason: error.code,
      title: '',
      error,
    });
  }

  private async signIn(
    db: EntityManager,
    identity: OidcIdentity,
    returnTo: string,
    meta: RequestMeta,
  ): Promise<SsoOutcome> {
    const settings = this.client.settings!;
    const role = roleFromClaim(identity.roleClaim, settings.roleMap);
    const email = identity.email?.trim().toLowerCase() ?? null;
    // Serialises creation, so two first sign-ins of the same person create one user.
    await this.users.lockUserCreation(db);
    let user = await this.users.findByOidcLinkForUpdate(identity.issuer, identity.subject, db);

    if (!role) {
      return this.refuse(db, identity, meta, {
        reason: 'no_role',
        user,
        title: 'No access to Enclave',
        error: new ApiError(
          403,
          'sso_no_role',
          `Your account${email ? ` (${email})` : ''} has no Enclave role. Ask your Enclave administrator, or whoever manages your groups at ${settings.label}, to give you access.`,
        ),
      });
    }
    if (user?.disabledAt) {
      return this.refuse(db, identity, meta, {
        reason: 'disabled',
        user,
        title: 'Account disabled',
        error: new ApiError(
          403,
          'account_disabled',
          'Your Enclave account is disabled; ask your Enclave administrator.',
        ),
      });
    }

    if (!user) {
      if (!email || email.length > 320 || !EMAIL_PATTERN.test(email)) {
        return this.refuse(db, identity, meta, {
          reason: 'no_email',
          title: 'No email address',
          error: new ApiError(
            403,
            'sso_no_email',
            `${settings.label} did not send an email address for your account, which Enclave needs; ask your administrator.`,
          ),
        });
      }
      if (await this.users.findByEmail(email, db)) {
        // Someone already has this email (a password account, or another provider's): taking it
        // over by email alone would let whoever controls the provider's email claim in.
        return this.refuse(db, identity, meta, {
          reason: 'email_taken',
          title: 'Account exists',
          error: new ApiError(
            409,
            'sso_email_taken',
            `Enclave already has an account for ${email} that does not sign in through ${settings.label}; ask your Enclave administrator.`,
          ),
        });
      }
      user = await this.users.insert(db, {
        email,
        role,
        passwordHash: null,
        displayName: identity.name?.trim() || null,
        oidc: { issuer: identity.issuer, subject: identity.subject },
      });
      await this.audit.append(db, {
        actor: SSO_ACTOR,
        action: 'auth.sso.user_created',
        target: { type: 'user', id: user.id },
        outcome: 'success',
        meta,
        payload: { email, role, issuer: identity.issuer, subject: identity.subject },
      });
    } else if (user.role !== role) {
      const before = user.role;
      user = (await this.users.update(db, user.id, { role }))!;
      await this.audit.append(db, {
        actor: SSO_ACTOR,
        action: 'user.role_changed',
        target: { type: 'user', id: user.id },
        outcome: 'success',
        meta,
        payload: { before, after: role, via: 'sso' },
      });
    }

    if (settings.groupMap) {
      await this.groups.syncFromSso(
        db,
        user,
        groupsFromClaim(identity.roleClaim, settings.groupMap),
        SSO_ACTOR,
        meta,
      );
    }
    const signedIn = await this.sessions.startSession(db, user, meta);
    await this.audit.append(db, {
      actor: { type: 'user', id: user.id, label: user.email },
      action: 'auth.sso.login',
      target: { type: 'user', id: user.id },
      outcome: 'success',
      meta,
      payload: { issuer: identity.issuer, subject: identity.subject, role },
    });
    return { ok: true, signedIn, returnTo };
  }

  private async refuse(
    db: EntityManager,
    identity: OidcIdentity | null,
    meta: RequestMeta,
    r: {
      reason: string;
      title: string;
      error: ApiError;
      user?: { id: string; email: string } | null;
    },
  ): Promise<SsoOutcome> {
    const user = r.user ?? null;
    await this.audit.append(db, {
      actor: user
        ? { type: 'user', id: user.id, label: user.email }
        : { type: 'anonymous', label: identity?.email ?? identity?.subject ?? undefined },
      action: 'auth.sso.refused',
      target: user ? { type: 'user', id: user.id } : null,
      outcome: 'failure',
      meta,
      payload: {
        reason: r.reason,
        code: r.error.code,
        ...(identity && {
          issuer: identity.issuer,
          subject: identity.subject,
          email: identity.email,
          claim: claimValues(identity.roleClaim),
        }),
      },
    });
    return { ok: false, error: r.error.markAudited(), title: r.title };
  }
}
