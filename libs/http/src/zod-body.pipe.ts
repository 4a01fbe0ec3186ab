import type { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { ApiError } from './api-error.js';
import { findUnstorable } from './text.js';

/**
 * Validates a request body against a zod schema (strict objects refuse unknown fields) and
 * answers 400 `invalid_body` naming the first offending field; a NUL or a lone surrogate
 * anywhere is refused too.
 */
export class ZodBody<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  protected readonly code: string = 'invalid_body';
  protected readonly what: string = 'request body';

  constructor(private readonly schema: S) {}

  transform(value: unknown): z.infer<S> {
    // Whatever the schema lets through (loose objects pass unknown fields on) would reach
    // Postgres, which cannot store a NUL or a lone surrogate half.
    const bad = findUnstorable(value);
    if (bad) {
      const param = bad.path.join('.') || null;
      throw new ApiError(
        400,
        this.code,
        `Invalid ${this.what}: ${param ? `'${param}': ` : ''}${bad.why}`,
        { param },
      );
    }
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    const issue = result.error.issues[0]!;
    const param = issue.path.join('.') || null;
    const where = param ? `'${param}': ` : '';
    throw new ApiError(400, this.code, `Invalid ${this.what}: ${where}${issue.message}`, { param });
  }
}

/** The same for query parameters: 400 `invalid_query`. */
export class ZodQuery<S extends z.ZodType> extends ZodBody<S> {
  protected override readonly code = 'invalid_query';
  protected override readonly what = 'query';
}

/**
 * What a handler may return for a response typed `T` in libs/contracts: the same shape, with a
 * Date wherever the contract has a string (JSON carries it as its ISO text). Annotating a
 * handler `Promise<Sendable<User>>` makes a field renamed on either side a compile error.
 */
export type Sendable<T> = T extends string
  ? string extends T
    ? string | Date
    : T
  : T extends readonly (infer U)[]
    ? Sendable<U>[]
    : T extends object
      ? { [K in keyof T]: Sendable<T[K]> }
      : T;
