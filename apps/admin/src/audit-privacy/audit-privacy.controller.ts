import { Body, Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { LegalHolds } from '@enclave/audit-chain';
import { sqlOf } from '@enclave/db';
import {
  CurrentPrincipal,
  type Principal,
  principalActor,
  Roles,
  UsersRepository,
} from '@enclave/auth';
import { requestMeta, UuidParam, ZodBody, type Sendable } from '@enclave/http';
import { eraseUser } from '@enclave/privacy';
import { DataSource } from 'typeorm';
import {
  CreateHoldBody,
  ErasureBody,
  type ErasureResult,
  type LegalHold,
} from '@enclave/contracts';

/**
 * Legal holds and erasure (docs/audit.md): auditors may see the holds; only admins place,
 * release or erase. Each change is audited in its own transaction.
 */
@Controller('api/admin/audit')
@Roles('admin')
export class AuditPrivacyController {
  private readonly holds: LegalHolds;

  constructor(
    private readonly dataSource: DataSource,
    users: UsersRepository,
  ) {
    this.holds = new LegalHolds(users);
  }

  @Get('holds')
  @Roles('admin', 'auditor')
  async listHolds(): Promise<Sendable<{ data: LegalHold[] }>> {
    return { data: await this.holds.list(sqlOf(this.dataSource)) };
  }

  @Post('holds')
  @HttpCode(201)
  createHold(
    @Body(new ZodBody(CreateHoldBody)) body: CreateHoldBody,
    @CurrentPrincipal() p: Principal,
    @Req() req: FastifyRequest,
  ): Promise<Sendable<LegalHold>> {
    return this.dataSource.transaction((db) =>
      this.holds.create(
        db,
        {
          userId: body.userId ?? null,
          from: body.from ? new Date(body.from) : null,
          to: body.to ? new Date(body.to) : null,
          reason: body.reason,
        },
        principalActor(p),
        requestMeta(req),
      ),
    );
  }

  @Post('holds/:id/release')
  @HttpCode(200)
  releaseHold(
    @Param('id', UuidParam) id: string,
    @CurrentPrincipal() p: Principal,
    @Req() req: FastifyRequest,
  ): Promise<Sendable<LegalHold>> {
    return this.dataSource.transaction((db) =>
      this.holds.release(db, id, principalActor(p), requestMeta(req)),
    );
  }

  @Post('erasures')
  @HttpCode(200)
  erase(
    @Body(new ZodBody(ErasureBody)) body: ErasureBody,
    @CurrentPrincipal() p: Principal,
    @Req() req: FastifyRequest,
  ): Promise<Sendable<ErasureResult>> {
    return this.dataSource.transaction((db) =>
      eraseUser(db, body.userId, body.reason, principalActor(p), requestMeta(req)),
    );
  }
}
