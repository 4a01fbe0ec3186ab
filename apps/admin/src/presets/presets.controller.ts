import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CurrentPrincipal, type Principal, Roles } from '@enclave/auth';
import {
  type Preset,
  PresetBody,
  type PromptTemplate,
  PromptTemplateBody,
} from '@enclave/contracts';
import { requestMeta, type Sendable, UuidParam, ZodBody } from '@enclave/http';
import { AdminPresetsService } from './presets.service.js';

/**
 * Presets and prompt templates an admin publishes for everyone in the chat UI:
 * `GET|POST /api/admin/presets`, `DELETE /api/admin/presets/:id`, and the same under
 * `/api/admin/prompt-templates`. Each change is audited.
 */
@Roles('admin')
@Controller('api/admin')
export class AdminPresetsController {
  constructor(private readonly presets: AdminPresetsService) {}

  @Get('presets')
  async listPresets(): Promise<Sendable<{ data: Preset[] }>> {
    return { data: await this.presets.listPresets() };
  }

  @Post('presets')
  @HttpCode(201)
  publishPreset(
    @Body(new ZodBody(PresetBody)) body: PresetBody,
    @CurrentPrincipal() who: Principal,
    @Req() req: FastifyRequest,
  ): Promise<Sendable<Preset>> {
    return this.presets.publishPreset(body, who, requestMeta(req));
  }

  @Delete('presets/:id')
  @HttpCode(204)
  async deletePreset(
    @Param('id', UuidParam) id: string,
    @CurrentPrincipal() who: Principal,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    await this.presets.deletePreset(id, who, requestMeta(req));
  }

  @Get('prompt-templates')
  async listTemplates(): Promise<Sendable<{ data: PromptTemplate[] }>> {
    return { data: await this.presets.listTemplates() };
  }

  @Post('prompt-templates')
  @HttpCode(201)
  publishTemplate(
    @Body(new ZodBody(PromptTemplateBody)) body: PromptTemplateBody,
    @CurrentPrincipal() who: Principal,
    @Req() req: FastifyRequest,
  ): Promise<Sendable<PromptTemplate>> {
    return this.presets.publishTemplate(body, who, requestMeta(req));
  }

  @Delete('prompt-templates/:id')
  @HttpCode(204)
  async deleteTemplate(
    @Param('id', UuidParam) id: string,
    @CurrentPrincipal() who: Principal,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    await this.presets.deleteTemplate(id, who, requestMeta(req));
  }
}
