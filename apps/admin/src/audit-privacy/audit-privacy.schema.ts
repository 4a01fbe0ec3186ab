import { z } from 'zod';
import { text } from '@enclave/http';

const Reason = text().trim().min(5, 'give a reason of at least 5 characters').max(2_000);
const Time = z.iso.datetime({ offset: true });

/** `POST /api/admin/audit/holds`: a user, a time range, or both. */
export const CreateHoldBody = z
  .strictObject({
    userId: z.uuid().optional(),
    from: Time.optional(),
    to: Time.optional(),
    reason: Reason,
  })
  .refine((b) => b.userId || b.from || b.to, {
    message: 'a hold needs a userId, a time range (from/to), or both',
  })
  .refine((b) => !b.from || !b.to || Date.parse(b.from) < Date.parse(b.to), {
    message: 'from must be before to',
    path: ['to'],
  });
export type CreateHoldBody = z.infer<typeof CreateHoldBody>;

/** `POST /api/admin/audit/erasures`. */
export const ErasureBody = z.strictObject({ userId: z.uuid(), reason: Reason });
export type ErasureBody = z.infer<typeof ErasureBody>;
