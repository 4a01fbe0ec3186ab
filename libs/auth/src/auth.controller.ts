import { Body, Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Config, InjectConfig } from '@enclave/config';
import {
  type AuthConfig,
  ChangePasswordBody,
  type Session,
  type SignedIn,
  SignInBody,
} from '@enclave/contracts';
import { ApiError, Public, requestMeta, type Sendable, ZodBody } from '@enclave/http';
import { clearSessionCookies, SESSION_COOKIE, setSessionCookies } from './cookies.js';
import { AllowedBeforePasswordChange, CurrentPrincipal, SessionOnly } from './decorators.js';
import type { Principal } from './principal.js';
import { SessionService } from './session.service.js';
import { UsersService } from './users.service.js';

/**
 * Where the chat UI is, as the browser that asked reaches it: the configured public URL; else,
 * behind the proxy (nginx: chat and console share one origin), `/`; else, reached directly as
 * under `npm start`, the chat app's own port on the same host.
 */
export function chatUrlFor(config: Config, req: FastifyRequest): string {
  if (config.publicUrl) return `${config.publicUrl}/`;
  if (req.headers['x-forwarded-for'] !== undefined) return '/';
  // The Host header is the client's word: only a plain host name or address goes into a link.
  const host = req.hostname;
  if (!/^([\w.-]+|\[[\da-f:.]+\])$/i.test(host)) return '/';
  return `${req.protocol}://${host}:${config.ports.chat}/`;
}

/** Sign-in for the web UIs (chat and admin): a session cookie plus a CSRF token. */
@Controller('api/auth')
export class AuthController {
  constructor(
    private readonly sessions: SessionService,
    private readonly users: UsersService,
    @InjectConfig() private readonly config: Config,
  ) {}

  /** How this Enclave lets people sign in, for the sign-in pages to offer the right buttons. */
  @Public()
  @Get('config')
  signInOptions(@Req() req: FastifyRequest): AuthConfig {
    const oidc = this.config.auth.oidc;
    return {
      localLogin: this.config.auth.localLogin,
      sso: { enabled: oidc !== null, label: oidc?.label ?? null },
      chatUrl: chatUrlFor(this.config, req),
    };
  }

  @Public()
  @Post('login')
  @HttpCode(200)
  async login(
    @Body(new ZodBody(SignInBody)) body: SignInBody,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Sendable<SignedIn>> {
    if (!this.config.auth.localLogin) {
      throw new ApiError(
        403,
        'local_login_disabled',
        `Sign-in with a password is turned off here; sign in with ${this.config.auth.oidc?.label ?? 'single sign-on'}.`,
      );
    }
    const signedIn = await this.sessions.signIn(body.email, body.password, requestMeta(req));
    setSessionCookies(req, reply, signedIn);
    return {
      user: signedIn.user,
      csrfToken: signedIn.csrfToken,
      expiresAt: signedIn.expiresAt,
      passwordChangeRequired: signedIn.passwordChangeRequired,
    };
  }

  @Public()
  @Post('logout')
  @HttpCode(204)
  async logout(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    // Public so that an expired session can still clear its cookies; a live one is ended.
    const token: unknown = req.cookies?.[SESSION_COOKIE];
    if (typeof token === 'string' && token) await this.sessions.signOut(token, requestMeta(req));
    clearSessionCookies(req, reply);
  }

  @Get('me')
  @AllowedBeforePasswordChange()
  me(@CurrentPrincipal() p: Principal): Session {
    return {
      user: { id: p.userId, email: p.email, role: p.role },
      via: p.via,
      csrfToken: p.session?.csrfToken ?? null,
      passwordChangeRequired: p.passwordChangeRequired ?? false,
    };
  }

  /**
   * The signed-in user replaces their own password (a one-time one included); their other
   * sessions end, this one stays.
   */
  @Post('password')
  @HttpCode(204)
  @SessionOnly()
  @AllowedBeforePasswordChange()
  async changePassword(
    @Body(new ZodBody(ChangePasswordBody)) body: ChangePasswordBody,
    @CurrentPrincipal() p: Principal,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    const token: unknown = req.cookies?.[SESSION_COOKIE];
    await this.users.changeOwnPassword(
      p.userId,
      body.currentPassword,
      body.newPassword,
      typeof token === 'string' ? token : null,
      requestMeta(req),
    );
  }
}
