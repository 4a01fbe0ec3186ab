import { Injectable, type PipeTransform } from '@nestjs/common';
import { ApiError } from './api-error.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

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
