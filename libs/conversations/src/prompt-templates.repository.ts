import { Injectable } from '@nestjs/common';
import { queryRows } from '@enclave/db';
import { isUuid } from '@enclave/http';
import { DataSource, type EntityManager } from 'typeorm';
import type { PresetOwner } from './presets.repository.js';

export interface PromptTemplate {
  id: string;
  /** What follows `/` in the composer. */
  name: string;
  content: string;
  /** Published by an admin for everyone; otherwise one user's own. */
  shared: boolean;
  createdAt: Date;
}

const COLUMNS = `id, name, content, user_id IS NULL AS shared, created_at AS "createdAt"`;

/**
 * Prompt templates the composer inserts when `/name` is typed: a user's own and those an admin
 * published (`user_id` NULL). Names are unique per owner (the insert throws Postgres' unique
 * violation, 23505, for the caller to answer).
 */
@Injectable()
export class PromptTemplatesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The user's own templates and the published ones, by name; only the published with null. */
  async list(userId: string | null): Promise<PromptTemplate[]> {
    return this.dataSource.query(
      `SELECT ${COLUMNS} FROM prompt_templates
        WHERE user_id IS NULL OR user_id = $1
        ORDER BY name, user_id IS NOT NULL, id`,
      [userId],
    );
  }

  async insert(
    db: EntityManager,
    t: { owner: PresetOwner; name: string; content: string; createdBy: string | null },
  ): Promise<PromptTemplate> {
    const rows = await queryRows<PromptTemplate>(
      db,
      `INSERT INTO prompt_templates (user_id, name, content, created_by)
       VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
      [t.owner, t.name, t.content, t.createdBy],
    );
    return rows[0]!;
  }

  /** Deletes the owner's template; null when the owner has none with this id. */
  async delete(db: EntityManager, id: string, owner: PresetOwner): Promise<PromptTemplate | null> {
    if (!isUuid(id)) return null;
    const rows = await queryRows<PromptTemplate>(
      db,
      `DELETE FROM prompt_templates WHERE id = $1 AND user_id IS NOT DISTINCT FROM $2
       RETURNING ${COLUMNS}`,
      [id, owner],
    );
    return rows[0] ?? null;
  }
}
