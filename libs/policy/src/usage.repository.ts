import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

const NO_KEY = '00000000-0000-0000-0000-000000000000';

export interface UsageRow {
  day: string;
  userId: string;
  apiKeyId: string | null;
  model: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  /** At the prices in force when each request was made. */
  cost: number;
}

/** Usage to add to one (day, user, key, model) row. */
export interface UsageDelta {
  day: string;
  userId: string;
  apiKeyId: string | null;
  model: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  cost: number;
}

export interface UsageFilter {
  from: string;
  to: string;
  userId?: string;
  apiKeyId?: string;
  model?: string;
}

/** Tokens per user, key, model and day, for the admin console and for billing back. */
@Injectable()
export class UsageRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Adds many requests' usage in one statement (see UsageBuffer). */
  async add(rows: UsageDelta[]): Promise<void> {
    if (!rows.length) return;
    await this.dataSource.query(
      `INSERT INTO usage_daily (day, user_id, api_key_id, model, requests, prompt_tokens, completion_tokens, cost)
       SELECT * FROM unnest($1::date[], $2::uuid[], $3::uuid[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::numeric[])
       ON CONFLICT (day, user_id, api_key_id, model) DO UPDATE SET
         requests = usage_daily.requests + EXCLUDED.requests,
         prompt_tokens = usage_daily.prompt_tokens + EXCLUDED.prompt_tokens,
         completion_tokens = usage_daily.completion_tokens + EXCLUDED.completion_tokens,
         cost = usage_daily.cost + EXCLUDED.cost`,
      [
        rows.map((r) => r.day),
        rows.map((r) => r.userId),
        rows.map((r) => r.apiKeyId ?? NO_KEY),
        rows.map((r) => r.model),
        rows.map((r) => r.requests),
        rows.map((r) => r.promptTokens),
        rows.map((r) => r.completionTokens),
        rows.map((r) => r.cost),
      ],
    );
  }

  async query(f: UsageFilter): Promise<UsageRow[]> {
    return this.dataSource.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, user_id AS "userId",
              NULLIF(api_key_id, '${NO_KEY}') AS "apiKeyId", model,
              requests::float8 AS requests, prompt_tokens::float8 AS "promptTokens",
              completion_tokens::float8 AS "completionTokens", cost::float8 AS cost
         FROM usage_daily
        WHERE day BETWEEN $1::date AND $2::date
          AND ($3::uuid IS NULL OR user_id = $3) AND ($4::uuid IS NULL OR api_key_id = $4)
          AND ($5::text IS NULL OR model = $5)
        ORDER BY day, user_id, model`,
      [f.from, f.to, f.userId ?? null, f.apiKeyId ?? null, f.model ?? null],
    );
  }
}
