import { Body, Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal, type Principal } from '@enclave/auth';
import { ApiError, requestMeta, ZodBody, LineParam } from '@enclave/http';
import {
  ChatCompletionRequest,
  EmbeddingsRequest,
  TextCompletionRequest,
} from './chat-request.schema.js';
import { ChatCompletionsService } from './chat-completions.service.js';
import { abortOnClientClose, ReplySse } from './sse.js';

/** The OpenAI-compatible API: what the official SDKs call with base URL `<chat>/v1`. */
@Controller('v1')
export class CompletionsController {
  constructor(private readonly completions: ChatCompletionsService) {}

  @Post('chat/completions')
  @HttpCode(200)
  async create(
    @Body(new ZodBody(ChatCompletionRequest)) body: ChatCompletionRequest,
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
      await this.completions.stream(ctx, body, new ReplySse(reply));
      return;
    }
    const { completion, cache, headers } = await this.completions.complete(ctx, body);
    void reply.headers(headers);
    if (cache) void reply.header('x-enclave-cache', cache);
    await reply.send(completion);
  }

  /** Legacy text completions (`client.completions.create`), through the same pipeline as chat. */
  @Post('completions')
  @HttpCode(200)
  async createText(
    @Body(new ZodBody(TextCompletionRequest)) body: TextCompletionRequest,
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
      await this.completions.streamText(ctx, body, new ReplySse(reply));
      return;
    }
    const { completion, headers } = await this.completions.completeText(ctx, body);
    await reply.headers(headers).send(completion);
  }

  @Get('models')
  models(@CurrentPrincipal() principal: Principal) {
    const ids = this.completions.modelsFor(principal);
    return { object: 'list', data: ids.map(modelObject) };
  }

  @Get('models/:model')
  model(@CurrentPrincipal() principal: Principal, @Param('model', LineParam) model: string) {
    if (!this.completions.modelsFor(principal).includes(model)) {
      throw new ApiError(
        404,
        'model_not_found',
        `The model '${model}' does not exist or is not yours to use.`,
      );
    }
    return modelObject(model);
  }

  @Post('embeddings')
  @HttpCode(200)
  async embeddings(
    @Body(new ZodBody(EmbeddingsRequest)) body: EmbeddingsRequest,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { response, headers } = await this.completions.embeddings(
      principal,
      requestMeta(req),
      body,
      abortOnClientClose(reply),
    );
    void reply.headers(headers);
    return response;
  }
}

function modelObject(id: string) {
  return { id, object: 'model', created: 0, owned_by: 'enclave' };
}
