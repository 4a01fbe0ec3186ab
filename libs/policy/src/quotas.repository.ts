import { Injectable } from '@nestjs/common';
import { queryRows } from '@enclave/db';
import { DataSource, type EntityManager } from 'typeorm';

export type QuotaScope = 'default_user' | 'default_key' | 'user' | 'api_key';

export interface Quota {
  scope: QuotaScope;
  /** The user's or key's id; null for the defaults. */
  subjectId: string | null;
  requestsPerMinute: number | null;
  tokensPerDay: number | null;
  tokensPerMonth: number | null;
}

const NO_SUBJECT = '00000000-0000-0000-0000-000000000000';
const COLUMNS = `scope, NULLIF(subject_id, '${NO_SUBJECT}') AS "subjectId",
  requests_per_minute AS "requestsPerMinute", tokens_per_day::float8 AS "tokensPerDay",
  tokens_per_month::float8 AS "tokensPerMonth"`;

@Injectable()
export class QuotasRepository {
  constructor(private readonly dataSource: DataSource) {}

  async list(db: EntityManager = this.dataSource.manager): Promise<Quota[]> {
    return db.query(`SELECT ${COLUMNS} FROM quotas ORDER BY scope, subject_id`);
  }

  async upsert(db: EntityManager, q: Quota): Promise<Quota> {
    const rows: Quota[] = await db.query(
      `INSERT INTO quotas (scope, subject_id, requests_per_minute, tokens_per_day, tokens_per_month)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (scope, subject_id) DO UPDATE SET
         requests_per_minute = EXCLUDED.requests_per_minute, tokens_per_day = EXCLUDED.tokens_per_day,
         tokens_per_month = EXCLUDED.tokens_per_month, updated_at = now()
       RETURNING ${COLUMNS}`,
      [q.scope, q.subjectId ?? NO_SUBJECT, q.requestsPerMinute, q.tokensPerDay, q.tokensPerMonth],
    );
    return rows[0]!;
  }

  async delete(db: EntityManager, scope: QuotaScope, subjectId: string | null): Promise<boolean> {
    const rows = await queryRows(
      db,
      'DELETE FROM quotas WHERE scope = $1 AND subject_id = $2 RETURNING 1',
      [scope, subjectId ?? NO_SUBJECT],
    );
    return rows.length > 0;
  }
}
