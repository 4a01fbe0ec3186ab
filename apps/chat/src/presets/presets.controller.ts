import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { CurrentPrincipal, type Principal } from '@enclave/auth';
import {
  type Preset,
  PresetBody,
  type PromptTemplate,
  PromptTemplateBody,
} from '@enclave/contracts';
import { type Sendable, UuidParam, ZodBody } from '@enclave/http';
import { PresetsService } from './presets.service.js';

/**
 * The signed-in user's presets (system prompt and parameters for a conversation) and prompt
 * templates (inserted with `/name` in the composer): their own, which they create and delete,
 * and the ones an admin published, which they may only use.
 */
@Controller('api')
export class PresetsController {
  constructor(private readonly presets: PresetsService) {}

  @Get('presets')
  async listPresets(@CurrentPrincipal() who: Principal): Promise<Sendable<{ data: Preset[] }>> {
    return { data: await this.presets.listPresets(who.userId) };
  }

  @Post('presets')
  @HttpCode(201)
  createPreset(
    @Body(new ZodBody(PresetBody)) body: PresetBody,
    @CurrentPrincipal() who: Principal,
  ): Promise<Sendable<Preset>> {
    return this.presets.createPreset(who.userId, who.userId, body);
  }

  @Delete('presets/:id')
  @HttpCode(204)
  async deletePreset(
    @Param('id', UuidParam) id: string,
    @CurrentPrincipal() who: Principal,
  ): Promise<void> {
    await this.presets.deletePreset(id, who.userId);
  }

  @Get('prompt-templates')
  async listTemplates(
    @CurrentPrincipal() who: Principal,
  ): Promise<Sendable<{ data: PromptTemplate[] }>> {
    return { data: await this.presets.listTemplates(who.userId) };
  }

  @Post('prompt-templates')
  @HttpCode(201)
  createTemplate(
    @Body(new ZodBody(PromptTemplateBody)) body: PromptTemplateBody,
    @CurrentPrincipal() who: Principal,
  ): Promise<Sendable<PromptTemplate>> {
    return this.presets.createTemplate(who.userId, who.userId, body);
  }

  @Delete('prompt-templates/:id')
  @HttpCode(204)
  async deleteTemplate(
    @Param('id', UuidParam) id: string,
    @CurrentPrincipal() who: Principal,
  ): Promise<void> {
    await this.presets.deleteTemplate(id, who.userId);
  }
}
