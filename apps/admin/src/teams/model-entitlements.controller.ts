import { Body, Controller, Get, Put, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CurrentPrincipal, type Principal, Roles } from '@enclave/auth';
import {
  line,
  ModelAccessBody,
  type ModelEntitlements,
  type ModelPrice,
  PriceBody,
} from '@enclave/contracts';
import { requestMeta, type Sendable, ZodBody, ZodQuery } from '@enclave/http';
import { z } from 'zod';
import { ModelEntitlementsService } from './model-entitlements.service.js';

const PriceHistoryQuery = z.strictObject({ model: line().trim().min(1).max(256) });

/**
 * Model access by group and prices (`/api/admin/models/…`): the model travels in the body or
 * the query, never the path, since model names may hold slashes.
 */
@Controller('api/admin')
export class ModelEntitlementsController {
  constructor(private readonly service: ModelEntitlementsService) {}

  @Roles('admin', 'auditor')
  @Get('model-entitlements')
  list(): Promise<Sendable<ModelEntitlements>> {
    return this.service.list();
  }

  @Roles('admin')
  @Put('model-access')
  setAccess(
    @Body(new ZodBody(ModelAccessBody)) body: ModelAccessBody,
    @CurrentPrincipal() p: Principal,
    @Req() req: FastifyRequest,
  ) {
    return this.service.setAccess(body.model, body.groupIds, p, requestMeta(req));
  }

  @Roles('admin')
  @Put('prices')
  setPrice(
    @Body(new ZodBody(PriceBody)) body: PriceBody,
    @CurrentPrincipal() p: Principal,
    @Req() req: FastifyRequest,
  ): Promise<Sendable<ModelPrice>> {
    return this.service.setPrice(body, p, requestMeta(req));
  }

  @Roles('admin', 'auditor')
  @Get('prices')
  async history(
    @Query(new ZodQuery(PriceHistoryQuery)) q: z.infer<typeof PriceHistoryQuery>,
  ): Promise<Sendable<{ data: ModelPrice[] }>> {
    return { data: await this.service.priceHistory(q.model) };
  }
}
