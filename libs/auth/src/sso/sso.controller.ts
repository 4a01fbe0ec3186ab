import { Controller, Get, Logger, Req, Res } from '@nestjs/common';
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, Public, requestMeta, toApiError } from '@enclave/http';
import { overTls, setSessionCookies } from '../cookies.js';
import { safeReturnTo } from './return-to.js';
import { ssoErrorPage } from './sso-page.js';
import { PENDING_LOGIN_SECONDS, SsoService } from './sso.service.js';

/** Ties the provider's callback to the browser that started the sign-in (see SsoService). */
export const SSO_BINDING_COOKIE = 'enclave_sso';
const SSO_PATH = '/api/auth/oidc';

/**
 * Single sign-on for the web UIs (chat and admin console): browser navigations, so failures are
 * pages a person reads, never JSON or a stack trace.
 */
@Controller('api/auth/oidc')
export class SsoController {
  private readonly log = new Logger('SingleSignOn');

  constructor(private readonly sso: SsoService) {}

  @Public()
  @Get('login')
  async login(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    try {
      const returnTo = safeReturnTo((req.query as Record<string, unknown>).returnTo);
      if (returnTo === null) {
        throw new ApiError(
          400,
          'invalid_return_to',
          'returnTo must be a path on this site, such as /admin/.',
          { param: 'returnTo' },
        );
      }
      const { redirectTo, bindingToken } = await this.sso.start(returnTo);
      reply.setCookie(SSO_BINDING_COOKIE, bindingToken, {
        ...bindingCookie(req),
        maxAge: PENDING_LOGIN_SECONDS,
      });
      void reply.header('cache-control', 'no-store').redirect(redirectTo, 302);
    } catch (err) {
      const error = toApiError(err);
      if (!(err instanceof ApiError)) this.log.error({ err }, 'single sign-on could not start');
      await this.recordRefusal(error, req);
      sendPage(reply, error, 'Cannot start single sign-on');
    }
  }

  @Public()
  @Get('callback')
  async callback(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const token: unknown = req.cookies?.[SSO_BINDING_COOKIE];
    const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    reply.clearCookie(SSO_BINDING_COOKIE, bindingCookie(req));
    try {
      const outcome = await this.sso.finish(
        query,
        typeof token === 'string' && token ? token : null,
        requestMeta(req),
      );
      if (!outcome.ok) {
        sendPage(reply, outcome.error, outcome.title);
        return;
      }
      setSessionCookies(req, reply, outcome.signedIn);
      void reply.header('cache-control', 'no-store').redirect(outcome.returnTo, 302);
    } catch (err) {
      this.log.error({ err }, 'single sign-on callback failed');
      const error = toApiError(err);
      await this.recordRefusal(error, req);
      sendPage(reply, error, 'Single sign-on failed');
    }
  }

  private async recordRefusal(error: ApiError, req: FastifyRequest): Promise<void> {
    try {
      await this.sso.recordRefusal(error, requestMeta(req));
    } catch (err) {
      this.log.error({ err }, 'could not record a refused single sign-on');
    }
  }
}

/**
 * SameSite=Lax, not Strict like the session cookie: the provider's redirect back is a cross-site
 * navigation, on which a Strict cookie would not be sent. Only the SSO paths see it.
 */
function bindingCookie(req: FastifyRequest): CookieSerializeOptions {
  return { httpOnly: true, sameSite: 'lax', secure: overTls(req), path: SSO_PATH };
}

function sendPage(reply: FastifyReply, error: ApiError, title: string): void {
  void reply
    .status(error.getStatus())
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(ssoErrorPage({ title, message: error.message, code: error.code }));
}
