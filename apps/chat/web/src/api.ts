// The chat app's API as the page uses it. Fetching, the CSRF token, the error shape and the
// session endpoints are the shared core's (libs/web); this file adds the chat's own endpoints,
// whose request and response shapes are the server's own (libs/contracts).
import type {
  ApiKey,
  Conversation,
  ConversationDetail,
  ConversationSettingsBody,
  CreateApiKeyBody,
  CreateConversationBody,
  CreatedApiKey,
  Feedback,
  FeedbackBody,
  Me,
  ModelList,
  Preset,
  PresetBody,
  PromptTemplate,
  PromptTemplateBody,
  MyUsage,
  RenameConversationBody,
  SearchHit,
  SelectVersionBody,
} from '@enclave/contracts';
import { createApiClient } from '@enclave/web';
import i18next from 'i18next';
import type { z } from 'zod';

export { ApiFailure, CONNECTION_LOST } from '@enclave/web';

export type {
  ChatParams,
  ApiKey,
  Conversation,
  ConversationDetail,
  Feedback,
  Highlighted,
  Preset,
  PromptTemplate,
  SearchHit,
  MyUsage,
  Rating,
  StoredMessage,
} from '@enclave/contracts';
/** The signed-in account (`GET /api/auth/me`). */
export type { Me as User } from '@enclave/contracts';

/** The chat's client: the shared core (libs/web) with the chat's own wording. */
export const client = createApiClient<Me>({
  connectionLostMessage: () => i18next.t('connectionLost'),
});

export const { writeHeaders, failureOf, connectionLost } = client;
const call = client.call;
const enc = encodeURIComponent;
/** What a request may send: the schema's input (before defaults and transforms). */
type Body<S extends z.ZodType> = z.input<S>;

/** Where the single sign-on link goes; the provider sends the browser back to the chat. */
export const SSO_LOGIN_URL = '/api/auth/oidc/login?returnTo=%2F';

export const api = {
  signOut: client.auth.signOut,
  models: () => call<ModelList>('GET', '/v1/models'),
  myUsage: () => call<MyUsage>('GET', '/api/me/usage'),
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
  createConversation: (body: Body<typeof CreateConversationBody>) =>
    call<Conversation>('POST', '/api/conversations', body),
  rename: (id: string, body: Body<typeof RenameConversationBody>) =>
    call<Conversation>('PATCH', `/api/conversations/${enc(id)}`, body),
  remove: (id: string) => call<void>('DELETE', `/api/conversations/${enc(id)}`),
  feedbackOf: (conversationId: string) =>
    call<{ data: Feedback[] }>('GET', `/api/conversations/${enc(conversationId)}/feedback`),
  giveFeedback: (messageId: string, body: Body<typeof FeedbackBody>) =>
    call<Feedback>('PUT', `/api/messages/${enc(messageId)}/feedback`, body),
  search: (q: string) =>
    call<{ data: SearchHit[] }>('GET', `/api/search?${new URLSearchParams({ q })}`),
  selectVersion: (id: string, body: Body<typeof SelectVersionBody>) =>
    call<ConversationDetail>('PUT', `/api/conversations/${enc(id)}/active-message`, body),
  updateSettings: (id: string, body: Body<typeof ConversationSettingsBody>) =>
    call<Conversation>('PUT', `/api/conversations/${enc(id)}/settings`, body),
  presets: () => call<{ data: Preset[] }>('GET', '/api/presets'),
  createPreset: (body: Body<typeof PresetBody>) => call<Preset>('POST', '/api/presets', body),
  deletePreset: (id: string) => call<void>('DELETE', `/api/presets/${enc(id)}`),
  templates: () => call<{ data: PromptTemplate[] }>('GET', '/api/prompt-templates'),
  createTemplate: (body: Body<typeof PromptTemplateBody>) =>
    call<PromptTemplate>('POST', '/api/prompt-templates', body),
  deleteTemplate: (id: string) => call<void>('DELETE', `/api/prompt-templates/${enc(id)}`),
  /** The signed-in person's own API keys (libs/auth ApiKeysController). */
  keys: () => call<{ data: ApiKey[] }>('GET', '/api/keys'),
  createKey: (body: Body<typeof CreateApiKeyBody>) =>
    call<CreatedApiKey>('POST', '/api/keys', body),
  revokeKey: (prefix: string) => call<void>('DELETE', `/api/keys/${enc(prefix)}`),
};
