import { Injectable } from '@nestjs/common';
import { AuditLog } from '@enclave/audit';
import { type Principal, principalActor } from '@enclave/auth';
import type { PresetBody, PromptTemplateBody } from '@enclave/contracts';
import {
  type Preset,
  PresetsRepository,
  type PromptTemplate,
  PromptTemplatesRepository,
} from '@enclave/conversations';
import { ApiError, type RequestMeta } from '@enclave/http';
import { DataSource, type EntityManager } from 'typeorm';

/** Published presets and prompt templates (`user_id` NULL): each change with its audit event. */
@Injectable()
export class AdminPresetsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly presets: PresetsRepository,
    private readonly templates: PromptTemplatesRepository,
    private readonly audit: AuditLog,
  ) {}

  listPresets(): Promise<Preset[]> {
    return this.presets.list(null);
  }

  publishPreset(body: PresetBody, who: Principal, meta: RequestMeta): Promise<Preset> {
    return this.dataSource.transaction(async (db) => {
      const preset = await nameTaken(
        this.presets.insert(db, { owner: null, createdBy: who.userId, ...body }),
        `A published preset is already named '${body.name}'; choose another name or delete that one.`,
      );
      await this.record(db, who, meta, 'admin.preset.published', 'preset', preset.id, {
        name: preset.name,
        systemPrompt: preset.systemPrompt,
        params: preset.params,
      });
      return preset;
    });
  }

  async deletePreset(id: string, who: Principal, meta: RequestMeta): Promise<void> {
    await this.dataSource.transaction(async (db) => {
      const gone = await this.presets.delete(db, id, null);
      if (!gone) {
        throw new ApiError(404, 'preset_not_found', `There is no published preset with id ${id}.`, {
          param: 'id',
        });
      }
      await this.record(db, who, meta, 'admin.preset.deleted', 'preset', id, { name: gone.name });
    });
  }

  listTemplates(): Promise<PromptTemplate[]> {
    return this.templates.list(null);
  }

  publishTemplate(
    body: PromptTemplateBody,
    who: Principal,
    meta: RequestMeta,
  ): Promise<PromptTemplate> {
    return this.dataSource.transaction(async (db) => {
      const template = await nameTaken(
        this.templates.insert(db, { owner: null, createdBy: who.userId, ...body }),
        `A published prompt template is already named '/${body.name}'; choose another name or delete that one.`,
      );
      await this.record(
        db,
        who,
        meta,
        'admin.prompt_template.published',
        'prompt_template',
        template.id,
        { name: template.name, content: template.content },
      );
      return template;
    });
  }

  async deleteTemplate(id: string, who: Principal, meta: RequestMeta): Promise<void> {
    await this.dataSource.transaction(async (db) => {
      const gone = await this.templates.delete(db, id, null);
      if (!gone) {
        throw new ApiError(
          404,
          'prompt_template_not_found',
          `There is no published prompt template with id ${id}.`,
          { param: 'id' },
        );
      }
      await this.record(db, who, meta, 'admin.prompt_template.deleted', 'prompt_template', id, {
        name: gone.name,
      });
    });
  }

  private record(
    db: EntityManager,
    who: Principal,
    meta: RequestMeta,
    action: string,
    type: string,
    id: string,
    payload: Record<string, unknown>,
  ): Promise<void> {
    return this.audit.append(db, {
      actor: principalActor(who),
      action,
      target: { type, id },
      outcome: 'success',
      meta,
      payload,
    });
  }
}

/** The insert, with a name already published answered 409 `name_taken`. */
async function nameTaken<T>(insert: Promise<T>, message: string): Promise<T> {
  try {
    return await insert;
  } catch (err) {
    const code = (err as { driverError?: { code?: string } }).driverError?.code;
    if (code === '23505') throw new ApiError(409, 'name_taken', message, { param: 'name' });
    throw err;
  }
}
