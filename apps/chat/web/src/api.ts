// The chat app's API as the page uses it. Fetching, the CSRF token, the error shape and the
// session endpoints are the shared core's (libs/web); this file adds the chat's own endpoints.
import { createApiClient } from '@enclave/web';

export { ApiFailure, CONNECTION_LOST } from '@enclave/web';

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

/** The chat's client: the shared core (libs/web) with the chat's own wording. */
export const client = createApiClient<User>({
  connectionLostMessage: 'The connection to Enclave was lost. Check your network and try again.',
});

export const { writeHeaders, failureOf, connectionLost } = client;
const call = client.call;
const enc = encodeURIComponent;

/** Where the single sign-on link goes; the provider sends the browser back to the chat. */
export const SSO_LOGIN_URL = '/api/auth/oidc/login?returnTo=%2F';

export const api = {
  signOut: client.auth.signOut,
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
