import { Body, Controller, Delete, Get, HttpCode, Param, Put, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CurrentPrincipal, type Principal, Roles } from '@enclave/auth';
import { type Budget, BudgetBody } from '@enclave/contracts';
import { requestMeta, type Sendable, UuidParam, ZodBody } from '@enclave/http';
import { BudgetsService } from './budgets.service.js';

/** Budgets (tokens or money per day or month) of groups, users and keys. */
@Controller('api/admin/budgets')
export class BudgetsController {
  constructor(private readonly budgets: BudgetsService) {}

  @Roles('admin', 'auditor')
  @Get()
  async list(): Promise<Sendable<{ data: Budget[] }>> {
    return { data: await this.budgets.list() };
  }

  @Roles('admin')
  @Put()
  async set(
    @Body(new ZodBody(BudgetBody)) body: BudgetBody,
    @CurrentPrincipal() p: Principal,
    @Req() req: FastifyRequest,
  ) {
    return this.budgets.set(body, p, requestMeta(req));
  }

  @Roles('admin')
  @Delete(':id')
  @HttpCode(204)
  async remove(
    @Param('id', UuidParam) id: string,
    @CurrentPrincipal() p: Principal,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    await this.budgets.remove(id, p, requestMeta(req));
  }
}
