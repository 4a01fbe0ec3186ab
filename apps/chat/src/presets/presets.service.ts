import { Injectable } from '@nestjs/common';
import type { PresetBody, PromptTemplateBody } from '@enclave/contracts';
import {
  type Preset,
  PresetsRepository,
  type PromptTemplate,
  PromptTemplatesRepository,
} from '@enclave/conversations';
import { ApiError } from '@enclave/http';
import { DataSource } from 'typeorm';

/** A user's own presets and prompt templates (those an admin publishes: the admin app). */
@Injectable()
export class PresetsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly presets: PresetsRepository,
    private readonly templates: PromptTemplatesRepository,
  ) {}

  listPresets(userId: string): Promise<Preset[]> {
    return this.presets.list(userId);
  }

  createPreset(owner: string, createdBy: string, body: PresetBody): Promise<Preset> {
    return nameTaken(
      this.presets.insert(this.dataSource.manager, { owner, createdBy, ...body }),
      `You already have a preset named '${body.name}'; choose another name or delete that one.`,
    );
  }

  async deletePreset(id: string, owner: string): Promise<void> {
    const gone = await this.presets.delete(this.dataSource.manager, id, owner);
    if (!gone) {
      throw new ApiError(404, 'preset_not_found', `You have no preset with id ${id}.`, {
        param: 'id',
      });
    }
  }

  listTemplates(userId: string): Promise<PromptTemplate[]> {
    return this.templates.list(userId);
  }

  createTemplate(
    owner: string,
    createdBy: string,
    body: PromptTemplateBody,
  ): Promise<PromptTemplate> {
    return nameTaken(
      this.templates.insert(this.dataSource.manager, { owner, createdBy, ...body }),
      `You already have a prompt template named '/${body.name}'; choose another name or delete that one.`,
    );
  }

  async deleteTemplate(id: string, owner: string): Promise<void> {
    const gone = await this.templates.delete(this.dataSource.manager, id, owner);
    if (!gone) {
      throw new ApiError(
        404,
        'prompt_template_not_found',
        `You have no prompt template with id ${id}.`,
        { param: 'id' },
      );
    }
  }
}

/** The insert, with a name already used by the same owner answered 409 `name_taken`. */
export async function nameTaken<T>(insert: Promise<T>, message: string): Promise<T> {
  try {
    return await insert;
  } catch (err) {
    const code = (err as { driverError?: { code?: string }; code?: string }).driverError?.code;
    if (code === '23505') throw new ApiError(409, 'name_taken', message, { param: 'name' });
    throw err;
  }
}
