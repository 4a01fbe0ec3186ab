import { Injectable, Logger } from '@nestjs/common';
import * as oidc from 'openid-client';
import { type Config, InjectConfig, type OidcConfig } from '@enclave/config';
import { ApiError } from '@enclave/http';

/** What a verified callback tells us about the person who signed in. */
export interface OidcIdentity {
  issuer: string;
  subject: string;
  email: string | null;
  name: string | null;
  /** The role claim as the provider sent it (ID token, else userinfo). */
  roleClaim: unknown;
}

/** What the callback must be checked against, kept from the redirect to the provider. */
export interface OidcChecks {
  state: string;
  nonce: string;
  codeVerifier: string;
}

const DISCOVERY_TIMEOUT_SECONDS = 10;

/**
 * The relying-party side of OpenID Connect (authorization code + PKCE) through `openid-client`:
 * the provider's metadata is discovered on first use and kept; a failed discovery is retried on
 * the next sign-in rather than remembered.
 */
@Injectable()
export class OidcClient {
  private readonly log = new Logger('SingleSignOn');
  private discovered: Promise<oidc.Configuration> | null = null;

  constructor(@InjectConfig() private readonly appConfig: Config) {}

  get settings(): OidcConfig | null {
    return this.appConfig.auth.oidc;
  }

  /** The provider's authorization URL for a new sign-in, and the checks its callback needs. */
  async authorizationUrl(): Promise<{ url: URL; checks: OidcChecks }> {
    const settings = this.required();
    const config = await this.configuration();
    const checks: OidcChecks = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: settings.redirectUri,
      scope: 'openid email profile',
      state: checks.state,
      nonce: checks.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: 'S256',
    });
    return { url, checks };
  }

  /**
   * Redeems the callback's code (with the PKCE verifier), verifies the ID token (signature,
   * issuer, audience, nonce) and reads the identity; the role claim comes from the ID token, or
   * from userinfo when the provider only puts it there.
   */
  async redeem(callbackQuery: string, checks: OidcChecks): Promise<OidcIdentity> {
    const settings = this.required();
    const config = await this.configuration();
    // The callback URL as the provider built it: the registered redirect URI plus its query. It
    // is not rebuilt from the request's Host header, which the client controls.
    const currentUrl = new URL(settings.redirectUri);
    currentUrl.search = callbackQuery;
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: checks.codeVerifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw this.callbackError(err);
    }
    const claims = tokens.claims()!;
    let email = typeof claims.email === 'string' ? claims.email : null;
    let name = typeof claims.name === 'string' ? claims.name : null;
    let roleClaim: unknown = claims[settings.roleClaim];
    if (roleClaim === undefined || email === null) {
      try {
        const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
        roleClaim ??= info[settings.roleClaim];
        email ??= typeof info.email === 'string' ? info.email : null;
        name ??= typeof info.name === 'string' ? info.name : null;
      } catch (err) {
        throw this.callbackError(err);
      }
    }
    return { issuer: claims.iss, subject: claims.sub, email, name, roleClaim };
  }

  private required(): OidcConfig {
    const settings = this.settings;
    if (!settings) {
      throw new ApiError(404, 'sso_disabled', 'Single sign-on is not set up on this Enclave.');
    }
    return settings;
  }

  private configuration(): Promise<oidc.Configuration> {
    if (!this.discovered) {
      const settings = this.required();
      const issuer = new URL(settings.issuer);
      this.discovered = oidc
        .discovery(
          issuer,
          settings.clientId,
          undefined,
          settings.clientSecret ? oidc.ClientSecretBasic(settings.clientSecret) : oidc.None(),
          {
            timeout: DISCOVERY_TIMEOUT_SECONDS,
            // Config allows plain http for a provider on loopback only.
            execute: issuer.protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
          },
        )
        .catch((err: unknown) => {
          this.discovered = null;
          this.log.error({ err, issuer: settings.issuer }, 'OpenID provider discovery failed');
          throw new ApiError(
            502,
            'sso_unavailable',
            `The identity provider (${settings.issuer}) cannot be reached or answered wrongly; try again later, or tell your Enclave administrator.`,
          );
        });
    }
    return this.discovered;
  }

  /** A failed callback as an error a person can act on; the details go to the log. */
  private callbackError(err: unknown): ApiError {
    if (err instanceof oidc.AuthorizationResponseError) {
      // The provider itself said no (e.g. access_denied when the user cancelled).
      return new ApiError(
        401,
        'sso_provider_refused',
        `The identity provider did not sign you in (${err.error}${err.error_description ? `: ${err.error_description}` : ''}).`,
      );
    }
    this.log.warn({ err }, 'single sign-on callback could not be verified');
    if (isNetworkError(err)) {
      return new ApiError(
        502,
        'sso_unavailable',
        'The identity provider could not be reached to finish signing in; try again.',
      );
    }
    return new ApiError(
      401,
      'sso_verification_failed',
      "The identity provider's answer could not be verified; start signing in again.",
    );
  }
}

function isNetworkError(err: unknown): boolean {
  // fetch fails with a TypeError ("fetch failed"), a timeout with an AbortError/TimeoutError.
  const names = new Set(['TypeError', 'AbortError', 'TimeoutError']);
  const e = err as { name?: unknown; cause?: { name?: unknown } } | null;
  return names.has(String(e?.name)) || names.has(String(e?.cause?.name));
}
