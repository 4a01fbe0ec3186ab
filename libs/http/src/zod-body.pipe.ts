import type { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { ApiError } from './api-error.js';

/**
 * Validates a request body against a zod schema (strict objects refuse unknown fields) and
 * answers 400 `invalid_body` naming the first offending field.
 */
export class ZodBody<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.infer<S> {
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    const issue = result.error.issues[0]!;
    const param = issue.path.join('.') || null;
    const where = param ? `'${param}': ` : '';
    throw new ApiError(400, 'invalid_body', `Invalid request body: ${where}${issue.message}`, {
      param,
    });
  }
}
