import { Body, Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { CurrentPrincipal, type Principal } from '@enclave/auth';
import { ApiError, requestMeta, ZodBody, LineParam } from '@enclave/http';
import { ChatCompletionRequest, EmbeddingsRequest } from './chat-request.schema.js';
import { ChatCompletionsService } from './chat-completions.service.js';
import { abortOnClientClose, ExpressSse } from './sse.js';

/** The OpenAI-compatible API: what the official SDKs call with base URL `<chat>/v1`. */
@Controller('v1')
export class CompletionsController {
  constructor(private readonly completions: ChatCompletionsService) {}

  @Post('chat/completions')
  @HttpCode(200)
  async create(
    @Body(new ZodBody(ChatCompletionRequest)) body: ChatCompletionRequest,
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const ctx = {
      principal,
      meta: requestMeta(req),
      conversationId: null,
      signal: abortOnClientClose(res),
    };
    if (body.stream) {
      await this.completions.stream(ctx, body, new ExpressSse(res));
      return;
    }
    const { completion, cache } = await this.completions.complete(ctx, body);
    if (cache) res.set('x-enclave-cache', cache);
    res.json(completion);
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
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.completions.embeddings(principal, requestMeta(req), body, abortOnClientClose(res));
  }
}

function modelObject(id: string) {
  return { id, object: 'model', created: 0, owned_by: 'enclave' };
}
