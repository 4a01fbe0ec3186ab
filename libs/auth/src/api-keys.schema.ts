import { z } from 'zod';
import { line } from '@enclave/http';
import type { NewApiKey } from './api-key.service.js';
import { expiryAfter } from './duration.js';

/** POST /api/keys and POST /api/admin/users/:id/keys */
export const CreateApiKeyBody = z.strictObject({
  name: line().trim().min(1).max(100),
  /** Absent or null: every model the owner may use. */
  models: z.array(line().trim().min(1).max(200)).min(1).max(100).nullable().optional(),
  /** e.g. `30d`, `12h`, `90m`; absent or null: never expires. */
  expiresIn: line().max(20).nullable().optional(),
});
export type CreateApiKeyBody = z.infer<typeof CreateApiKeyBody>;

/** The key to create, its expiry counted from now; 400 `invalid_expiry` for a bad expiresIn. */
export function newApiKey(body: CreateApiKeyBody): NewApiKey {
  return { name: body.name, models: body.models ?? null, expiresAt: expiryAfter(body.expiresIn) };
}
