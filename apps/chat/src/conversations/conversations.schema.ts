import type { PipeTransform } from '@nestjs/common';
import { z } from 'zod';
import { ApiError, cursorParam, line, queryInt } from '@enclave/http';
import type { ConversationKey } from '@enclave/conversations';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

const ListQuery = z.strictObject({
  limit: queryInt(1, MAX_PAGE_SIZE).optional(),
  cursor: z.string().optional(),
  // An empty search box means no search.
  q: line()
    .max(200)
    .transform((q) => q || null)
    .optional(),
});

export interface ListConversationsQuery {
  limit: number;
  after: ConversationKey | null;
  q: string | null;
}

/**
 * GET /api/conversations?limit=&cursor=&q= : 400 `invalid_query` for a bad or unknown parameter,
 * 400 `invalid_cursor` for a cursor this API did not hand out.
 */
export class ListConversationsQueryPipe implements PipeTransform<unknown, ListConversationsQuery> {
  transform(value: unknown): ListConversationsQuery {
    const result = ListQuery.safeParse(value ?? {});
    if (!result.success) {
      const issue = result.error.issues[0]!;
      const unknown = issue.code === 'unrecognized_keys';
      const param = unknown ? issue.keys[0]! : issue.path.join('.');
      throw new ApiError(
        400,
        'invalid_query',
        unknown
          ? `Unknown query parameter '${param}'; this route takes limit, cursor and q.`
          : `Invalid query parameter '${param}': ${issue.message}. limit is a whole number from 1 to ${MAX_PAGE_SIZE}; q is at most 200 characters.`,
        { param },
      );
    }
    const { limit, cursor, q } = result.data;
    const after: ConversationKey | null =
      cursor === undefined ? null : cursorParam('updatedAt', cursor, 'cursor');
    return { limit: limit ?? DEFAULT_PAGE_SIZE, after, q: q ?? null };
  }
}
