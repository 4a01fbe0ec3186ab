import { Injectable } from '@nestjs/common';
import { queryRows, type Sql } from '@enclave/db';
import { DataSource, type EntityManager } from 'typeorm';
import type { HoldCondition, RetentionStep } from './chat-retention.js';

/**
 * A response of the Responses API as stored for its owner: the response object as the client got
 * it, and the whole conversation up to it (`input`: earlier turns' items, then this request's),
 * so `previous_response_id` reads one row. The shapes are OpenAI's; this lib keeps them as JSON.
 */
export interface StoredResponse {
  id: string;
  userId: string;
  apiKeyId: string | null;
  model: string;
  previousResponseId: string | null;
  input: unknown[];
  response: Record<string, unknown>;
  createdAt: Date;
  /**
   * When the oldest content it holds was first written: its own creation, or that of the
   * response it continues or whose items it references, whichever is older.
   */
  contentSince: Date;
}

export type NewStoredResponse = Omit<StoredResponse, 'createdAt'>;

const COLUMNS = `id, user_id AS "userId", api_key_id AS "apiKeyId", model,
  previous_response_id AS "previousResponseId", input, response, created_at AS "createdAt",
  content_since AS "contentSince"`;

/** Stored responses: only their owner reads or deletes one (anyone else finds nothing). */
@Injectable()
export class ResponsesRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(r: NewStoredResponse, db: EntityManager = this.dataSource.manager): Promise<void> {
    await db.query(
      `INSERT INTO stored_responses
         (id, user_id, api_key_id, model, previous_response_id, input, response, content_since)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8)`,
      [
        r.id,
        r.userId,
        r.apiKeyId,
        r.model,
        r.previousResponseId,
        JSON.stringify(r.input),
        JSON.stringify(r.response),
        r.contentSince,
      ],
    );
  }

  /** The user's own response with that id; null for no such id or someone else's. */
  async getOwn(id: string, userId: string): Promise<StoredResponse | null> {
    const rows = await queryRows<StoredResponse>(
      this.dataSource.manager,
      `SELECT ${COLUMNS} FROM stored_responses WHERE id = $1 AND user_id = $2`,
      [id, userId],
    );
    return rows[0] ?? null;
  }

  /**
   * Output items of the user's stored responses by item id (what a client's `item_reference`
   * input items point at), in no particular order, each with its response's `contentSince`; ids
   * that are not theirs are absent.
   */
  async ownOutputItems(
    userId: string,
    itemIds: string[],
  ): Promise<{ item: Record<string, unknown>; contentSince: Date }[]> {
    return queryRows(
      this.dataSource.manager,
      `SELECT item, r.content_since AS "contentSince"
         FROM stored_responses r, jsonb_array_elements(r.response -> 'output') item
        WHERE r.user_id = $1
          AND jsonb_path_query_array(r.response, '$.output[*].id') ?| $2::text[]
          AND item ->> 'id' = ANY ($2::text[])`,
      [userId, itemIds],
    );
  }

  /** Deletes the user's own response; false when there was none of theirs with that id. */
  async deleteOwn(id: string, userId: string): Promise<boolean> {
    const rows = await queryRows(
      this.dataSource.manager,
      'DELETE FROM stored_responses WHERE id = $1 AND user_id = $2 RETURNING id',
      [id, userId],
    );
    return rows.length > 0;
  }
}

/** SQL condition on a hold `h`: it covers one of user `$1`'s stored responses. */
export function holdOverUserResponses(holdCoversRecord: HoldCondition): string {
  return `EXISTS (SELECT 1 FROM stored_responses r
  WHERE r.user_id = $1 AND ${holdCoversRecord('r.user_id', 'r.content_since', 'r.created_at')})`;
}

/**
 * Erasure: deletes every stored response of user `userId` (prompts and answers are all their
 * content; nothing of them is kept). Run in the erasure's transaction after the hold check.
 */
export async function eraseStoredResponses(sql: Sql, userId: string): Promise<number> {
  const rows = await sql('DELETE FROM stored_responses WHERE user_id = $1 RETURNING id', [userId]);
  return rows.length;
}

const BATCH = 10_000;

/**
 * Retention: deletes the stored responses holding content from before `cutoff` (by
 * `content_since`: a copy of an old turn goes when the turn would) that no legal hold covers,
 * in batches each committed on its own (through `step`). Returns how many went and how many
 * were kept for a hold.
 */
export async function pruneStoredResponses(
  step: RetentionStep,
  read: Sql,
  cutoff: Date,
  recordHeld: HoldCondition,
): Promise<{ deleted: number; held: number }> {
  // Held when a hold covers any of the span its content was written in.
  const HELD = recordHeld('r.user_id', 'r.content_since', 'r.created_at');
  let deleted = 0;
  for (;;) {
    const n = await step(async (sql) => {
      const rows = await sql(
        `DELETE FROM stored_responses WHERE id IN (
           SELECT r.id FROM stored_responses r WHERE r.content_since < $1 AND NOT ${HELD}
            LIMIT ${BATCH}) RETURNING id`,
        [cutoff],
      );
      return rows.length;
    });
    deleted += n ?? 0;
    if (!n || n < BATCH) break;
  }
  const [held] = await read<{ n: number }>(
    `SELECT count(*)::int AS n FROM stored_responses r WHERE r.content_since < $1 AND ${HELD}`,
    [cutoff],
  );
  return { deleted, held: held!.n };
}
