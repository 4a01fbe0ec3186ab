import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal, type Principal } from '@enclave/auth';
import { LineParam, requestMeta, ZodBody, ZodQuery } from '@enclave/http';
import { abortOnClientClose, ReplySse } from '../completions/sse.js';
import { InputItemsQuery, ResponsesRequest } from './responses-request.schema.js';
import { ResponsesService } from './responses.service.js';

/** OpenAI's Responses API, what newer clients (AI SDK, Agents SDK) call with base URL `<chat>/v1`. */
@Controller('v1/responses')
export class ResponsesController {
  constructor(private readonly responses: ResponsesService) {}

  @Post()
  @HttpCode(200)
  async create(
    @Body(new ZodBody(ResponsesRequest)) body: ResponsesRequest,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const ctx = {
      principal,
      meta: requestMeta(req),
      conversationId: null,
      signal: abortOnClientClose(reply),
    };
    if (body.stream) {
      await this.responses.stream(ctx, body, new ReplySse(reply));
      return;
    }
    const { response, cache, headers } = await this.responses.create(ctx, body);
    void reply.headers(headers);
    if (cache) void reply.header('x-enclave-cache', cache);
    await reply.send(response);
  }

  @Get(':id')
  get(@CurrentPrincipal() principal: Principal, @Param('id', LineParam) id: string) {
    return this.responses.get(principal.userId, id);
  }

  @Get(':id/input_items')
  inputItems(
    @CurrentPrincipal() principal: Principal,
    @Param('id', LineParam) id: string,
    @Query(new ZodQuery(InputItemsQuery)) q: InputItemsQuery,
  ) {
    return this.responses.inputItems(principal.userId, id, q);
  }

  @Delete(':id')
  delete(@CurrentPrincipal() principal: Principal, @Param('id', LineParam) id: string) {
    return this.responses.delete(principal.userId, id);
  }
}
