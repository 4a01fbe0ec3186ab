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
import {
  CurrentPrincipal,
  GroupsService,
  type Principal,
  principalActor,
  Roles,
} from '@enclave/auth';
import { CreateGroupBody, type Group, type GroupDetail, UpdateGroupBody } from '@enclave/contracts';
import { requestMeta, type Sendable, UuidParam, ZodBody } from '@enclave/http';
import { GroupRemovalService } from './group-removal.service.js';

/** Groups and their members: auditors read, administrators change (each change audited). */
@Controller('api/admin/groups')
export class GroupsController {
  constructor(
    private readonly groups: GroupsService,
    private readonly removal: GroupRemovalService,
  ) {}

  @Roles('admin', 'auditor')
  @Get()
  async list(): Promise<Sendable<{ data: Group[] }>> {
    return { data: await this.groups.list() };
  }

  @Roles('admin', 'auditor')
  @Get(':id')
  get(@Param('id', UuidParam) id: string): Promise<Sendable<GroupDetail>> {
    return this.groups.get(id);
  }

  @Roles('admin')
  @Post()
  @HttpCode(201)
  create(
    @Body(new ZodBody(CreateGroupBody)) body: CreateGroupBody,
    @CurrentPrincipal() p: Principal,
    @Req() req: FastifyRequest,
  ): Promise<Sendable<Group>> {
    return this.groups.create(body, principalActor(p), requestMeta(req));
  }

  @Roles('admin')
  @Patch(':id')
  update(
    @Param('id', UuidParam) id: string,
    @Body(new ZodBody(UpdateGroupBody)) body: UpdateGroupBody,
    @CurrentPrincipal() p: Principal,
    @Req() req: FastifyRequest,
  ): Promise<Sendable<Group>> {
    return this.groups.update(id, body, principalActor(p), requestMeta(req));
  }

  @Roles('admin')
  @Delete(':id')
  @HttpCode(204)
  async remove(
    @Param('id', UuidParam) id: string,
    @CurrentPrincipal() p: Principal,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    await this.removal.remove(id, principalActor(p), requestMeta(req));
  }

  @Roles('admin')
  @Put(':id/members/:userId')
  @HttpCode(204)
  async addMember(
    @Param('id', UuidParam) id: string,
    @Param('userId', UuidParam) userId: string,
    @CurrentPrincipal() p: Principal,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    await this.groups.addMember(id, userId, principalActor(p), requestMeta(req));
  }

  @Roles('admin')
  @Delete(':id/members/:userId')
  @HttpCode(204)
  async removeMember(
    @Param('id', UuidParam) id: string,
    @Param('userId', UuidParam) userId: string,
    @CurrentPrincipal() p: Principal,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    await this.groups.removeMember(id, userId, principalActor(p), requestMeta(req));
  }
}
