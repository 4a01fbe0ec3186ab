import { Body, Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal, type Principal } from '@enclave/auth';
import { ApiError, requestMeta, ZodBody, LineParam } from '@enclave/http';
import { ChatCompletionRequest, EmbeddingsRequest } from './chat-request.schema.js';
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
    const { completion, cache } = await this.completions.complete(ctx, body);
    if (cache) void reply.header('x-enclave-cache', cache);
    await reply.send(completion);
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
  embeddings(
    @Body(new ZodBody(EmbeddingsRequest)) body: EmbeddingsRequest,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.completions.embeddings(
      principal,
      requestMeta(req),
      body,
      abortOnClientClose(reply),
    );
  }
}

function modelObject(id: string) {
  return { id, object: 'model', created: 0, owned_by: 'enclave' };
}
