import { Controller, Get, Logger, Req, Res } from '@nestjs/common';
import type { CookieOptions, Request, Response } from 'express';
import { ApiError, Public, requestMeta, toApiError } from '@enclave/http';
import { setSessionCookies } from '../cookies.js';
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
  async login(@Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      const returnTo = safeReturnTo(req.query.returnTo);
      if (returnTo === null) {
        throw new ApiError(
          400,
          'invalid_return_to',
          'returnTo must be a path on this site, such as /admin/.',
          { param: 'returnTo' },
        );
      }
      const { redirectTo, bindingToken } = await this.sso.start(returnTo);
      res.cookie(SSO_BINDING_COOKIE, bindingToken, {
        ...bindingCookie(req),
        maxAge: PENDING_LOGIN_SECONDS * 1000,
      });
      res.set('cache-control', 'no-store').redirect(302, redirectTo);
    } catch (err) {
      const error = toApiError(err);
      if (!(err instanceof ApiError)) this.log.error({ err }, 'single sign-on could not start');
      await this.recordRefusal(error, req);
      sendPage(res, error, 'Cannot start single sign-on');
    }
  }

  @Public()
  @Get('callback')
  async callback(@Req() req: Request, @Res() res: Response): Promise<void> {
    const token: unknown = req.cookies?.[SSO_BINDING_COOKIE];
    const query = req.originalUrl.includes('?')
      ? req.originalUrl.slice(req.originalUrl.indexOf('?'))
      : '';
    res.clearCookie(SSO_BINDING_COOKIE, bindingCookie(req));
    try {
      const outcome = await this.sso.finish(
        query,
        typeof token === 'string' && token ? token : null,
        requestMeta(req),
      );
      if (!outcome.ok) {
        sendPage(res, outcome.error, outcome.title);
        return;
      }
      setSessionCookies(req, res, outcome.signedIn);
      res.set('cache-control', 'no-store').redirect(302, outcome.returnTo);
    } catch (err) {
      this.log.error({ err }, 'single sign-on callback failed');
      const error = toApiError(err);
      await this.recordRefusal(error, req);
      sendPage(res, error, 'Single sign-on failed');
    }
  }

  private async recordRefusal(error: ApiError, req: Request): Promise<void> {
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
function bindingCookie(req: Request): CookieOptions {
  return { httpOnly: true, sameSite: 'lax', secure: req.secure, path: SSO_PATH };
}

function sendPage(res: Response, error: ApiError, title: string): void {
  res
    .status(error.getStatus())
    .set('cache-control', 'no-store')
    .type('html')
    .send(ssoErrorPage({ title, message: error.message, code: error.code }));
}
