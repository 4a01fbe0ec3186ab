import { Controller, Get, Query } from '@nestjs/common';
import { CurrentPrincipal, type Principal } from '@enclave/auth';
import { line, queryInt, type SearchHit } from '@enclave/contracts';
import { MessageSearchRepository } from '@enclave/conversations';
import { type Sendable, ZodQuery } from '@enclave/http';
import { z } from 'zod';

const SearchQuery = z.strictObject({
  q: line().trim().min(1, 'type something to search for').max(200),
  limit: queryInt(1, 50).optional(),
});
type SearchQuery = z.infer<typeof SearchQuery>;

/**
 * `GET /api/search?q=&limit=`: full-text search over the caller's own conversations (messages
 * and titles), one hit per conversation with the matching words marked. 400 `invalid_query`
 * for an empty or over-long search.
 */
@Controller('api/search')
export class SearchController {
  constructor(private readonly search: MessageSearchRepository) {}

  @Get()
  async find(
    @Query(new ZodQuery(SearchQuery)) query: SearchQuery,
    @CurrentPrincipal() principal: Principal,
  ): Promise<Sendable<{ data: SearchHit[] }>> {
    return { data: await this.search.search(principal.userId, query.q, query.limit ?? 20) };
  }
}
