import { Body, Controller, Get, Patch, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CurrentPrincipal, type Principal, Roles } from '@enclave/auth';
import { ApiError, requestMeta, ZodBody, type Sendable } from '@enclave/http';
import { PolicyChange, type RuntimePolicies } from '@enclave/contracts';
import { PoliciesService } from './policies.service.js';

/**
 * The runtime policies (audit content level, retention, cache scope, default system prompt):
 * `GET /api/admin/policies` (admin, auditor), `PATCH /api/admin/policies` (admin) with the fields
 * to change, answering the policies now in force.
 */
@Controller('api/admin/policies')
export class PoliciesController {
  constructor(private readonly policies: PoliciesService) {}

  @Roles('admin', 'auditor')
  @Get()
  get(): Promise<Sendable<RuntimePolicies>> {
    return this.policies.get();
  }

  @Roles('admin')
  @Patch()
  update(
    @Body(new ZodBody(PolicyChange)) body: PolicyChange,
    @CurrentPrincipal() who: Principal,
    @Req() req: FastifyRequest,
  ): Promise<Sendable<RuntimePolicies>> {
    if (Object.keys(body).length === 0) {
      throw new ApiError(400, 'empty_change', 'Send at least one policy to change.');
    }
    return this.policies.update(body, who, requestMeta(req));
  }
}
