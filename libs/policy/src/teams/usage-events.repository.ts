import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** One finished request as the usage history keeps it (no content, nothing from messages). */
export interface UsageEvent {
  at: Date;
  userId: string;
  apiKeyId: string | null;
  /** The user's groups when the request was made. */
  groupIds: string[];
  model: string;
  outcome: string;
  cacheHit: boolean | null;
  promptTokens: number;
  completionTokens: number;
  /** At the price in force then; 0 when the model had no price. */
  cost: number;
  currency: string | null;
  latencyMs: number | null;
  ttftMs: number | null;
}

export type UsageDimension = 'group' | 'user' | 'model' | 'day';

export interface UsageReportFilter {
  from: string;
  to: string;
  groupId?: string;
  userId?: string;
  model?: string;
}

/** One line of a report: `key` is the group id, user id, model or day (null: no group). */
export interface UsageReportRow {
  key: string | null;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  cost: number;
}

const FIGURES = `
  count(u.at)::int AS requests,
  count(*) FILTER (WHERE u.outcome = 'upstream_error')::int AS errors,
  count(*) FILTER (WHERE u.cache_hit)::int AS "cacheHits",
  coalesce(sum(u.prompt_tokens), 0)::float8 AS "promptTokens",
  coalesce(sum(u.completion_tokens), 0)::float8 AS "completionTokens",
  round(percentile_cont(0.5) WITHIN GROUP (ORDER BY u.latency_ms))::int AS "latencyP50Ms",
  round(percentile_cont(0.95) WITHIN GROUP (ORDER BY u.latency_ms))::int AS "latencyP95Ms",
  round(percentile_cont(0.5) WITHIN GROUP (ORDER BY u.ttft_ms))::int AS "ttftP50Ms",
  round(percentile_cont(0.95) WITHIN GROUP (ORDER BY u.ttft_ms))::int AS "ttftP95Ms"`;

const KEY: Record<UsageDimension, string> = {
  group: 'g.group_id::text',
  user: 'u.user_id::text',
  model: 'u.model',
  day: `to_char(u.at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
};

export interface TrafficFigures {
  requests: number;
  errors: number;
  cacheHits: number;
  promptTokens: number;
  completionTokens: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  ttftP50Ms: number | null;
  ttftP95Ms: number | null;
}

/**
 * The usage history: a row per finished request, written in batches by the UsageBuffer. The
 * console's dashboard and the usage reports read it; deleting or erasing conversations never
 * touches it.
 */
@Injectable()
export class UsageEventsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async add(rows: UsageEvent[]): Promise<void> {
    if (!rows.length) return;
    await this.dataSource.query(
      `INSERT INTO usage_events (at, user_id, api_key_id, group_ids, model, outcome, cache_hit,
                                 prompt_tokens, completion_tokens, cost, currency, latency_ms, ttft_ms)
       SELECT at, user_id, api_key_id, ARRAY(SELECT jsonb_array_elements_text(groups))::uuid[],
              model, outcome, cache_hit, prompt_tokens, completion_tokens, cost, currency,
              latency_ms, ttft_ms
         FROM unnest($1::timestamptz[], $2::uuid[], $3::uuid[], $4::jsonb[], $5::text[], $6::text[],
                     $7::boolean[], $8::int[], $9::int[], $10::numeric[], $11::text[], $12::int[],
                     $13::int[])
           AS t(at, user_id, api_key_id, groups, model, outcome, cache_hit, prompt_tokens,
                completion_tokens, cost, currency, latency_ms, ttft_ms)`,
      [
        rows.map((r) => r.at),
        rows.map((r) => r.userId),
        rows.map((r) => r.apiKeyId),
        rows.map((r) => JSON.stringify(r.groupIds)),
        rows.map((r) => r.model),
        rows.map((r) => r.outcome),
        rows.map((r) => r.cacheHit),
        rows.map((r) => r.promptTokens),
        rows.map((r) => r.completionTokens),
        rows.map((r) => r.cost),
        rows.map((r) => r.currency),
        rows.map((r) => r.latencyMs),
        rows.map((r) => r.ttftMs),
      ],
    );
  }

  /** Requests, errors, cache hits, tokens and latency per minute over the last `minutes`. */
  async traffic(
    minutes: number,
  ): Promise<{ series: (TrafficFigures & { minute: string })[]; totals: TrafficFigures }> {
    const rows: (TrafficFigures & { minute: string | null })[] = await this.dataSource.query(
      `WITH span AS (
         SELECT date_trunc('minute', now()) - ($1::int - 1) * interval '1 minute' AS first,
                date_trunc('minute', now()) AS last),
       buckets AS (
         SELECT generate_series(span.first, span.last, interval '1 minute') AS minute FROM span),
       u AS (
         SELECT date_trunc('minute', at) AS minute, at, outcome, cache_hit, prompt_tokens,
                completion_tokens, latency_ms, ttft_ms
           FROM usage_events, span WHERE at >= span.first)
       SELECT to_char(b.minute AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS minute, ${FIGURES}
         FROM buckets b LEFT JOIN u ON u.minute = b.minute
        GROUP BY GROUPING SETS ((b.minute), ())
        ORDER BY b.minute NULLS LAST`,
      [minutes],
    );
    const { minute: _none, ...totals } = rows.pop()!;
    return { series: rows as (TrafficFigures & { minute: string })[], totals };
  }

  /**
   * Totals by one dimension over whole UTC days `from`..`to`. By group, a request counts once
   * for each group its user was in (and under null when in none).
   */
  async report(by: UsageDimension, f: UsageReportFilter): Promise<UsageReportRow[]> {
    return this.dataSource.query(
      `SELECT ${KEY[by]} AS key, count(*)::int AS requests,
              coalesce(sum(u.prompt_tokens), 0)::float8 AS "promptTokens",
              coalesce(sum(u.completion_tokens), 0)::float8 AS "completionTokens",
              coalesce(sum(u.cost), 0)::float8 AS cost
         FROM usage_events u
         LEFT JOIN LATERAL unnest(CASE WHEN $6::boolean THEN u.group_ids END) AS g(group_id) ON true
        WHERE u.at >= ($1::date)::timestamp AT TIME ZONE 'UTC'
          AND u.at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'
          AND u.outcome <> 'failed'
          AND ($3::uuid IS NULL OR $3 = ANY(u.group_ids))
          AND ($4::uuid IS NULL OR u.user_id = $4)
          AND ($5::text IS NULL OR u.model = $5)
        GROUP BY 1 ORDER BY 1 NULLS LAST`,
      [f.from, f.to, f.groupId ?? null, f.userId ?? null, f.model ?? null, by === 'group'],
    );
  }
}
