// The part of talking to Enclave that both web UIs share: same-origin fetch with the session
// cookie, the CSRF token echoed on every write, the API's error shape, and the session endpoints
// under /api/auth. Each app builds its own client and adds its own endpoints on top.
import type {
  AuthConfig,
  ChangePasswordBody,
  Session,
  SignedIn,
  SignInBody,
} from '@enclave/contracts';

/** An error answer of the API (`{"error":{"message","code"}}`), or no answer at all (status 0). */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds, from Retry-After. */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

/** The code of the failure that stands for no answer at all (network down, server gone). */
export const CONNECTION_LOST = 'connection_lost';

/** The session endpoints; `U` is the signed-in user as the app reads it. */
export interface AuthApi<U> {
  config(): Promise<AuthConfig>;
  me(): Promise<Omit<Session, 'user'> & { user: U }>;
  signIn(email: string, password: string): Promise<Omit<SignedIn, 'user'> & { user: U }>;
  signOut(): Promise<void>;
  /** `POST /api/auth/password`: the signed-in user's own password. */
  changePassword(currentPassword: string, newPassword: string): Promise<void>;
}

export interface ApiClient<U> {
  /** A JSON call; a non-2xx answer or no answer throws an ApiFailure. */
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** The headers of a write (with the CSRF token), for callers that fetch themselves. */
  writeHeaders(json: boolean): Record<string, string>;
  /** The ApiFailure a non-2xx response stands for (a 401 also ends the session). */
  failureOf(res: Response): Promise<ApiFailure>;
  /** The failure for no answer at all. */
  connectionLost(): ApiFailure;
  setCsrfToken(token: string | null): void;
  /** Called when the session has ended (any 401 outside sign-in). */
  onSessionEnded(handler: (() => void) | null): void;
  auth: AuthApi<U>;
}

export interface ApiClientOptions {
  /** What the app tells a person when Enclave does not answer at all. */
  /** A function, so the message is in the language chosen when the connection drops. */
  connectionLostMessage: () => string;
}

/** A client with its own CSRF token and session-ended handler (one per page). */
export function createApiClient<U>(options: ApiClientOptions): ApiClient<U> {
  let csrfToken: string | null = null;
  let onSignedOut: (() => void) | null = null;

  function writeHeaders(json: boolean): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (json) headers['content-type'] = 'application/json';
    if (csrfToken) headers['x-csrf-token'] = csrfToken;
    return headers;
  }

  async function failureOf(res: Response): Promise<ApiFailure> {
    let error: { code?: unknown; message?: unknown } | undefined;
    try {
      error = ((await res.json()) as { error?: typeof error }).error;
    } catch {
      error = undefined;
    }
    const retryHeader = res.headers.get('retry-after');
    const retryAfter =
      retryHeader !== null && /^\d+$/.test(retryHeader) ? Number(retryHeader) : null;
    if (res.status === 401) onSignedOut?.();
    return new ApiFailure(
      res.status,
      typeof error?.code === 'string' ? error.code : `http_${res.status}`,
      typeof error?.message === 'string' ? error.message : `The server answered ${res.status}.`,
      retryAfter,
    );
  }

  function connectionLost(): ApiFailure {
    return new ApiFailure(0, CONNECTION_LOST, options.connectionLostMessage());
  }

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(path, {
        method,
        credentials: 'same-origin',
        headers:
          method === 'GET' ? { accept: 'application/json' } : writeHeaders(body !== undefined),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw connectionLost();
    }
    if (!res.ok) throw await failureOf(res);
    return (res.status === 204 ? undefined : await res.json()) as T;
  }

  return {
    call,
    writeHeaders,
    failureOf,
    connectionLost,
    setCsrfToken: (token) => {
      csrfToken = token;
    },
    onSessionEnded: (handler) => {
      onSignedOut = handler;
    },
    auth: {
      config: () => call<AuthConfig>('GET', '/api/auth/config'),
      me: () => call('GET', '/api/auth/me'),
      signIn: (email, password) =>
        call('POST', '/api/auth/login', { email, password } satisfies SignInBody),
      signOut: () => call<void>('POST', '/api/auth/logout'),
      changePassword: (currentPassword, newPassword) =>
        call<void>('POST', '/api/auth/password', {
          currentPassword,
          newPassword,
        } satisfies ChangePasswordBody),
    },
  };
}
