import { z } from 'zod';
import { ROLES } from '@enclave/auth';
import { line } from '@enclave/http';

/**
 * POST /api/admin/users; without a password one is generated and returned once. The service
 * checks email and password (400 `invalid_email`, `weak_password`).
 */
export const CreateUserBody = z.strictObject({
  email: line().max(320),
  role: z.enum(ROLES),
  password: z.string().max(1024).nullable().optional(),
  displayName: line().trim().max(200).nullable().optional(),
});
export type CreateUserBody = z.infer<typeof CreateUserBody>;

/** PATCH /api/admin/users/:id */
export const UpdateUserBody = z
  .strictObject({ role: z.enum(ROLES).optional(), disabled: z.boolean().optional() })
  .refine((b) => b.role !== undefined || b.disabled !== undefined, {
    message: 'give role, disabled or both',
  });
export type UpdateUserBody = z.infer<typeof UpdateUserBody>;
