// The chat app's API as the page uses it: same-origin fetch with the session cookie, and the
// CSRF token echoed on every write.

export type Role = 'user' | 'auditor' | 'admin';
export type Rating = 'up' | 'down';

export interface User {
  id: string;
  email: string;
  role: Role;
}

export interface Conversation {
  id: string;
  title: string;
  model: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface StoredMessage {
  id: string;
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  model: string | null;
  upstream: string | null;
  outcome: 'in_progress' | 'completed' | 'client_disconnected' | 'upstream_error' | null;
  createdAt: string;
}

export interface ConversationDetail extends Conversation {
  messages: StoredMessage[];
}

export interface Feedback {
  messageId: string;
  rating: Rating;
  comment: string | null;
}

/** An error answer of the API (`{"error":{"message","type","code","param"}}`), or no answer. */
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

export const CONNECTION_LOST = 'connection_lost';

let csrfToken: string | null = null;
let onSignedOut: (() => void) | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when the session has ended (any 401 outside sign-in). */
export function onSessionEnded(handler: (() => void) | null): void {
  onSignedOut = handler;
}

export function writeHeaders(json: boolean): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (json) headers['content-type'] = 'application/json';
  if (csrfToken) headers['x-csrf-token'] = csrfToken;
  return headers;
}

/** The ApiFailure a non-2xx response stands for. */
export async function failureOf(res: Response): Promise<ApiFailure> {
  let error: { code?: unknown; message?: unknown } | undefined;
  try {
    error = ((await res.json()) as { error?: typeof error }).error;
  } catch {
    error = undefined;
  }
  const retryHeader = res.headers.get('retry-after');
  const retryAfter = retryHeader !== null && /^\d+$/.test(retryHeader) ? Number(retryHeader) : null;
  if (res.status === 401) onSignedOut?.();
  return new ApiFailure(
    res.status,
    typeof error?.code === 'string' ? error.code : `http_${res.status}`,
    typeof error?.message === 'string' ? error.message : `The server answered ${res.status}.`,
    retryAfter,
  );
}

export function connectionLost(): ApiFailure {
  return new ApiFailure(
    0,
    CONNECTION_LOST,
    'The connection to Enclave was lost. Check your network and try again.',
  );
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: method === 'GET' ? { accept: 'application/json' } : writeHeaders(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw connectionLost();
  }
  if (!res.ok) throw await failureOf(res);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

const enc = encodeURIComponent;

/** How this Enclave lets people sign in (GET /api/auth/config). */
export interface SignInOptions {
  localLogin: boolean;
  sso: { enabled: boolean; label: string | null };
}

/** Where the single sign-on button goes; the provider sends the browser back to the chat. */
export const SSO_LOGIN_URL = '/api/auth/oidc/login?returnTo=%2F';

export const api = {
  signInOptions: () => call<SignInOptions>('GET', '/api/auth/config'),
  me: () => call<{ user: User; csrfToken: string | null }>('GET', '/api/auth/me'),
  signIn: (email: string, password: string) =>
    call<{ user: User; csrfToken: string }>('POST', '/api/auth/login', { email, password }),
  signOut: () => call<void>('POST', '/api/auth/logout'),
  models: () => call<{ data: { id: string }[] }>('GET', '/v1/models'),
  conversations: (q: string, cursor: string | null) => {
    const params = new URLSearchParams({ limit: '20' });
    if (q) params.set('q', q);
    if (cursor) params.set('cursor', cursor);
    return call<{ data: Conversation[]; nextCursor: string | null }>(
      'GET',
      `/api/conversations?${params}`,
    );
  },
  conversation: (id: string) => call<ConversationDetail>('GET', `/api/conversations/${enc(id)}`),
  createConversation: (model: string) =>
    call<Conversation>('POST', '/api/conversations', { model }),
  rename: (id: string, title: string) =>
    call<Conversation>('PATCH', `/api/conversations/${enc(id)}`, { title }),
  remove: (id: string) => call<void>('DELETE', `/api/conversations/${enc(id)}`),
  feedbackOf: (conversationId: string) =>
    call<{ data: Feedback[] }>('GET', `/api/conversations/${enc(conversationId)}/feedback`),
  giveFeedback: (messageId: string, rating: Rating, comment: string | null) =>
    call<Feedback>('PUT', `/api/messages/${enc(messageId)}/feedback`, { rating, comment }),
};
