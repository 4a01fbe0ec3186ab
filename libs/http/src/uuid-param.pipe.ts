import { Injectable, type PipeTransform } from '@nestjs/common';
import { ApiError } from './api-error.js';
import { isUuid, ONE_LINE } from '@enclave/contracts';

/**
 * `@Param('id', UuidParam)`: a malformed id is a 400 `invalid_id` before any query runs
 * (Postgres would otherwise answer a uuid cast error, a 500).
 */
@Injectable()
export class UuidParam implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isUuid(value)) {
      throw new ApiError(400, 'invalid_id', `'${value}' is not a valid id (a UUID).`, {
        param: 'id',
      });
    }
    return value.toLowerCase();
  }
}

/**
 * `@Param('alias', LineParam)`: a path parameter that is one line of at most 256 characters
 * without control characters (400 `invalid_param`), so a `%00` never reaches a query.
 */
@Injectable()
export class LineParam implements PipeTransform<string, string> {
  transform(value: string, meta: { data?: string }): string {
    if (value.length === 0 || value.length > 256 || !ONE_LINE.test(value)) {
      const param = meta.data ?? null;
      throw new ApiError(
        400,
        'invalid_param',
        `The path parameter${param ? ` '${param}'` : ''} must be 1 to 256 characters without control characters.`,
        { param },
      );
    }
    return value;
  }
}
