import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import {
  ApiKeyService,
  CurrentPrincipal,
  newApiKey,
  type Principal,
  principalActor,
  Roles,
  UsersService,
} from '@enclave/auth';
import { LineParam, requestMeta, type Sendable, UuidParam, ZodBody } from '@enclave/http';
import {
  type ApiKey,
  CreateApiKeyBody,
  type CreatedApiKey,
  type CreatedUser,
  CreateUserBody,
  UpdateUserBody,
  type User,
} from '@enclave/contracts';

/** Administrators manage accounts and anyone's API keys. */
@Roles('admin')
@Controller('api/admin')
export class AdminUsersController {
  constructor(
    private readonly users: UsersService,
    private readonly keys: ApiKeyService,
  ) {}

  @Get('users')
  async list(): Promise<Sendable<{ data: User[] }>> {
    return { data: await this.users.list() };
  }

  @Post('users')
  @HttpCode(201)
  create(
    @Body(new ZodBody(CreateUserBody)) body: CreateUserBody,
    @CurrentPrincipal() p: Principal,
    @Req() req: FastifyRequest,
  ): Promise<Sendable<CreatedUser>> {
    return this.users.create(body, principalActor(p), requestMeta(req));
  }

  @Get('users/:id')
  get(@Param('id', UuidParam) id: string): Promise<Sendable<User>> {
    return this.users.get(id);
  }

  @Patch('users/:id')
  update(
    @Param('id', UuidParam) id: string,
    @Body(new ZodBody(UpdateUserBody)) body: UpdateUserBody,
    @CurrentPrincipal() p: Principal,
    @Req() req: FastifyRequest,
  ): Promise<Sendable<User>> {
    return this.users.update(id, body, principalActor(p), requestMeta(req));
  }

  @Post('users/:id/reset-password')
  @HttpCode(200)
  async resetPassword(
    @Param('id', UuidParam) id: string,
    @CurrentPrincipal() p: Principal,
    @Req() req: FastifyRequest,
  ): Promise<Sendable<{ generatedPassword: string }>> {
    return {
      generatedPassword: await this.users.resetPassword(id, principalActor(p), requestMeta(req)),
    };
  }

  @Get('users/:id/keys')
  async listKeys(@Param('id', UuidParam) id: string): Promise<Sendable<{ data: ApiKey[] }>> {
    return { data: await this.keys.listForUser(id) };
  }

  @Post('users/:id/keys')
  @HttpCode(201)
  createKey(
    @Param('id', UuidParam) id: string,
    @Body(new ZodBody(CreateApiKeyBody)) body: CreateApiKeyBody,
    @CurrentPrincipal() p: Principal,
    @Req() req: FastifyRequest,
  ): Promise<Sendable<CreatedApiKey>> {
    return this.keys.create(id, newApiKey(body), principalActor(p), requestMeta(req));
  }

  @Delete('keys/:prefix')
  @HttpCode(204)
  async revokeKey(
    @Param('prefix', LineParam) prefix: string,
    @CurrentPrincipal() p: Principal,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    await this.keys.revoke(prefix, principalActor(p), requestMeta(req));
  }
}
