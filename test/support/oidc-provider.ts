import type { Server } from 'node:http';
import Provider from 'oidc-provider';
import { freePort } from './ports.js';
import { realmFetch } from './openai.js';

export const OIDC_CLIENT_ID = 'enclave';
export const OIDC_CLIENT_SECRET = 'a-test-client-secret-of-some-length';

/** What the provider says about an account: its email, name and the role claim (groups). */
export interface OidcAccount {
  email?: string;
  name?: string;
  groups?: string[];
}

/**
 * A real OpenID provider (the certified `oidc-provider` package) on loopback, with one client
 * (Enclave) and accounts whose claims the test sets and changes. Its development login form
 * accepts any login name with any password; the name is the account's subject.
 */
export interface TestOidcProvider {
  issuer: string;
  accounts: Map<string, OidcAccount>;
  close(): Promise<void>;
}

/**
 * `host`: the name the issuer URL uses; `localhost` makes the provider another site than an app
 * on 127.0.0.1, as a real provider is (SameSite cookies then behave as in production).
 */
export async function startOidcProvider(
  redirectUris: string[],
  host: '127.0.0.1' | 'localhost' = '127.0.0.1',
): Promise<TestOidcProvider> {
  const port = await freePort();
  const issuer = `http://${host}:${port}`;
  const accounts = new Map<string, OidcAccount>();
  // Its start-up warnings (development keys and login forms) are the point here, not news.
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).startsWith('oidc-provider WARNING')) warn(...args);
  };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: OIDC_CLIENT_ID,
        client_secret: OIDC_CLIENT_SECRET,
        redirect_uris: redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    pkce: { required: () => true },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'groups'],
    },
    cookies: { keys: ['test-cookie-signing-key'] },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
    features: { devInteractions: { enabled: true } },
    async findAccount(_ctx, sub) {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return { sub, email_verified: true, ...accounts.get(sub) };
        },
      };
    },
  });
  console.warn = warn;
  // Its own log lines about expected client errors would only clutter the test output.
  provider.on('server_error', () => undefined);
  const server: Server = provider.listen(port, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return {
    issuer,
    accounts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Signs in at the provider as a person would with a browser (a cookie jar, the login form, then
 * the consent form), starting from the authorization URL Enclave redirected to. Returns the
 * callback URL the provider sends the browser back to (not followed).
 */
export async function signInAtProvider(
  authorizationUrl: string,
  subject: string,
  redirectUri: string,
): Promise<string> {
  const jar = new Map<string, string>();
  const send = async (url: string, form?: Record<string, string>) => {
    const res = await realmFetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form && { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(';')[0]!;
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return res;
  };
  let res = await send(authorizationUrl);
  for (let step = 0; step < 20; step++) {
    if (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get('location')!, res.url || authorizationUrl).href;
      if (next.startsWith(redirectUri)) return next;
      res = await send(next);
      continue;
    }
    const html = await res.text();
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
    if (res.status !== 200 || !prompt) {
      throw new Error(`unexpected page from the provider (${res.status}): ${html.slice(0, 300)}`);
    }
    const form: Record<string, string> =
      prompt === 'login' ? { prompt, login: subject, password: 'any' } : { prompt };
    res = await send(res.url, form);
  }
  throw new Error('the provider never redirected back');
}
