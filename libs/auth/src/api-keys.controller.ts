import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { requestMeta, ZodBody, LineParam } from '@enclave/http';
import { ApiKeyService } from './api-key.service.js';
import { CreateApiKeyBody } from '@enclave/contracts';
import { newApiKey } from './api-keys.schema.js';
import { CurrentPrincipal, SessionOnly } from './decorators.js';
import { type Principal, principalActor } from './principal.js';

/** Each signed-in user's own API keys, in every app. */
@Controller('api/keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeyService) {}

  @Get()
  async list(@CurrentPrincipal() p: Principal) {
    return { data: await this.keys.listForUser(p.userId) };
  }

  @Post()
  @HttpCode(201)
  @SessionOnly()
  create(
    @Body(new ZodBody(CreateApiKeyBody)) body: CreateApiKeyBody,
    @CurrentPrincipal() p: Principal,
    @Req() req: FastifyRequest,
  ) {
    return this.keys.create(p.userId, newApiKey(body), principalActor(p), requestMeta(req));
  }

  @Delete(':prefix')
  @HttpCode(204)
  async revoke(
    @Param('prefix', LineParam) prefix: string,
    @CurrentPrincipal() p: Principal,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    await this.keys.revoke(prefix, principalActor(p), requestMeta(req), { ownerUserId: p.userId });
  }
}
