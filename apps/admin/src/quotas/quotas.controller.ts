import { Body, Controller, Delete, Get, HttpCode, Put, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CurrentPrincipal, type Principal, Roles } from '@enclave/auth';
import { QuotaBody, QuotaScope, type Quota } from '@enclave/contracts';
import { line, requestMeta, ZodBody, ZodQuery, type Sendable } from '@enclave/http';
import { z } from 'zod';
import { QuotasService } from './quotas.service.js';

const QuotaKey = z.strictObject({
  scope: QuotaScope,
  subjectId: z.uuid().optional(),
});

const UsageQuery = z.strictObject({
  from: z.iso.date(),
  to: z.iso.date(),
  userId: z.uuid().optional(),
  apiKeyId: z.uuid().optional(),
  model: line().min(1).max(256).optional(),
});

/** Rate limits and token quotas (admin), and token usage (admin and auditor). */
@Controller('api/admin')
export class QuotasController {
  constructor(private readonly quotas: QuotasService) {}

  @Roles('admin')
  @Get('quotas')
  list(): Promise<Sendable<Quota[]>> {
    return this.quotas.list();
  }

  @Roles('admin')
  @Put('quotas')
  set(
    @Body(new ZodBody(QuotaBody)) body: QuotaBody,
    @CurrentPrincipal() who: Principal,
    @Req() req: FastifyRequest,
  ): Promise<Sendable<Quota>> {
    return this.quotas.set({ ...body, subjectId: body.subjectId ?? null }, who, requestMeta(req));
  }

  @Roles('admin')
  @Delete('quotas')
  @HttpCode(204)
  async remove(
    @Query(new ZodQuery(QuotaKey)) key: z.infer<typeof QuotaKey>,
    @CurrentPrincipal() who: Principal,
    @Req() req: FastifyRequest,
  ) {
    await this.quotas.remove(key.scope, key.subjectId ?? null, who, requestMeta(req));
  }

  @Roles('admin', 'auditor')
  @Get('usage')
  usage(@Query(new ZodQuery(UsageQuery)) q: z.infer<typeof UsageQuery>) {
    return this.quotas.usage(q);
  }
}
