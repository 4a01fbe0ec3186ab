import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Req,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CurrentPrincipal, type Principal, Roles } from '@enclave/auth';
import { requestMeta, UuidParam, ZodBody, LineParam, type Sendable } from '@enclave/http';
import type { z } from 'zod';
import {
  CreateBackend,
  SetAlias,
  UpdateBackend,
  type Backend,
  type StoredBackend,
  type BackendHealth,
  type ModelAlias,
} from '@enclave/contracts';
import { BackendsService } from './backends.service.js';

@Roles('admin')
@Controller('api/admin')
export class BackendsController {
  constructor(private readonly backends: BackendsService) {}

  @Get('backends')
  list(): Promise<Sendable<Backend[]>> {
    return this.backends.list();
  }

  @Post('backends')
  create(
    @Body(new ZodBody(CreateBackend)) body: CreateBackend,
    @CurrentPrincipal() who: Principal,
    @Req() req: FastifyRequest,
  ): Promise<Sendable<StoredBackend>> {
    return this.backends.create(body, who, requestMeta(req));
  }

  @Patch('backends/:id')
  update(
    @Param('id', UuidParam) id: string,
    @Body(new ZodBody(UpdateBackend)) body: UpdateBackend,
    @CurrentPrincipal() who: Principal,
    @Req() req: FastifyRequest,
  ): Promise<Sendable<StoredBackend>> {
    return this.backends.update(id, body, who, requestMeta(req));
  }

  @Delete('backends/:id')
  @HttpCode(204)
  async remove(
    @Param('id', UuidParam) id: string,
    @CurrentPrincipal() who: Principal,
    @Req() req: FastifyRequest,
  ) {
    await this.backends.remove(id, who, requestMeta(req));
  }

  @Post('backends/:id/test')
  @HttpCode(200)
  test(@Param('id', UuidParam) id: string): Promise<Sendable<BackendHealth | null>> {
    return this.backends.test(id);
  }

  @Get('aliases')
  async aliases(): Promise<Sendable<{ data: ModelAlias[] }>> {
    return { data: await this.backends.aliases() };
  }

  @Put('aliases/:alias')
  @HttpCode(204)
  async setAlias(
    @Param('alias', LineParam) alias: string,
    @Body(new ZodBody(SetAlias)) body: z.infer<typeof SetAlias>,
    @CurrentPrincipal() who: Principal,
    @Req() req: FastifyRequest,
  ) {
    await this.backends.setAlias(alias, body.model, who, requestMeta(req));
  }

  @Delete('aliases/:alias')
  @HttpCode(204)
  async deleteAlias(
    @Param('alias', LineParam) alias: string,
    @CurrentPrincipal() who: Principal,
    @Req() req: FastifyRequest,
  ) {
    await this.backends.setAlias(alias, null, who, requestMeta(req));
  }
}
