import { z } from 'zod';
import { text } from '@enclave/http';

export const MAX_COMMENT_LENGTH = 2000;

/** PUT /api/messages/:id/feedback; an empty or blank comment means none. */
export const FeedbackBody = z.strictObject({
  rating: z.enum(['up', 'down']),
  comment: text()
    .trim()
    .max(MAX_COMMENT_LENGTH)
    .nullable()
    .optional()
    .transform((c) => c || null),
});
export type FeedbackBody = z.infer<typeof FeedbackBody>;
