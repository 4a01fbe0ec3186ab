import { Injectable } from '@nestjs/common';
import { queryRows } from '@enclave/db';
import { isUuid } from '@enclave/http';
import { DataSource, type EntityManager } from 'typeorm';
import type { ConversationParams } from './conversations.repository.js';

export interface Preset {
  id: string;
  name: string;
  systemPrompt: string | null;
  params: ConversationParams;
  /** Published by an admin for everyone; otherwise one user's own. */
  shared: boolean;
  createdAt: Date;
}

/** Whose a preset is: a user's own (their id), or published for everyone (null). */
export type PresetOwner = string | null;

const COLUMNS = `id, name, system_prompt AS "systemPrompt", params, user_id IS NULL AS shared,
  created_at AS "createdAt"`;

/**
 * Presets of a conversation's system prompt and parameters: a user's own and those an admin
 * published (`user_id` NULL). Names are unique per owner, ignoring case (the insert throws
 * Postgres' unique violation, 23505, for the caller to answer).
 */
@Injectable()
export class PresetsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The user's own presets and the published ones, by name; only the published with null. */
  async list(userId: string | null): Promise<Preset[]> {
    return this.dataSource.query(
      `SELECT ${COLUMNS} FROM chat_presets
        WHERE user_id IS NULL OR user_id = $1
        ORDER BY user_id IS NOT NULL, lower(name), id`,
      [userId],
    );
  }

  async insert(
    db: EntityManager,
    p: {
      owner: PresetOwner;
      name: string;
      systemPrompt: string | null;
      params: ConversationParams;
      /** Who wrote it; null when not a person (seeded). */
      createdBy: string | null;
    },
  ): Promise<Preset> {
    const rows = await queryRows<Preset>(
      db,
      `INSERT INTO chat_presets (user_id, name, system_prompt, params, created_by)
       VALUES ($1, $2, $3, $4::jsonb, $5) RETURNING ${COLUMNS}`,
      [p.owner, p.name, p.systemPrompt, JSON.stringify(p.params), p.createdBy],
    );
    return rows[0]!;
  }

  /** Deletes the owner's preset; null when the owner has none with this id. */
  async delete(db: EntityManager, id: string, owner: PresetOwner): Promise<Preset | null> {
    if (!isUuid(id)) return null;
    const rows = await queryRows<Preset>(
      db,
      `DELETE FROM chat_presets WHERE id = $1 AND user_id IS NOT DISTINCT FROM $2
       RETURNING ${COLUMNS}`,
      [id, owner],
    );
    return rows[0] ?? null;
  }
}
