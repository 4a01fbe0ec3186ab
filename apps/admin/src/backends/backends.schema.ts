import { z } from 'zod';
import { line } from '@enclave/http';

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lower-case letters, digits, . _ - (max 63)');
const models = z.array(line().min(1).max(256)).max(1000).nullable();

export const CreateBackend = z.strictObject({
  name,
  baseUrl: z.url({ protocol: /^https?$/ }),
  apiKey: line().min(1).max(4096).nullable().optional(),
  models: models.optional(),
  weight: z.number().int().min(1).max(1000).optional(),
  maxConcurrent: z.number().int().min(1).max(100_000).optional(),
  timeoutMs: z.number().int().min(100).max(3_600_000).optional(),
  enabled: z.boolean().optional(),
});
export type CreateBackend = z.infer<typeof CreateBackend>;

export const UpdateBackend = CreateBackend.partial().refine((b) => Object.keys(b).length > 0, {
  message: 'send at least one field to change',
});
export type UpdateBackend = z.infer<typeof UpdateBackend>;

export const SetAlias = z.strictObject({ model: line().min(1).max(256) });
