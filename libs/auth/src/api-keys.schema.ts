import type { CreateApiKeyBody } from '@enclave/contracts';
import type { NewApiKey } from './api-key.service.js';
import { expiryAfter } from './duration.js';

/** The key to create, its expiry counted from now; 400 `invalid_expiry` for a bad expiresIn. */
export function newApiKey(body: CreateApiKeyBody): NewApiKey {
  return { name: body.name, models: body.models ?? null, expiresAt: expiryAfter(body.expiresIn) };
}
