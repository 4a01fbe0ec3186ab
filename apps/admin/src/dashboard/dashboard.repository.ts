import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';

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

export interface MinuteFigures extends TrafficFigures {
  /** The start of the minute, ISO (UTC). */
  minute: string;
}

export interface ReplicaRow {
  name: string;
  clientAddr: string | null;
  state: string;
  syncState: string;
  replayLagSeconds: number | null;
}

const FIGURES = `
  count(m.created_at)::int AS requests,
  count(*) FILTER (WHERE m.outcome = 'upstream_error')::int AS errors,
  count(*) FILTER (WHERE m.cache_hit)::int AS "cacheHits",
  coalesce(sum(m.prompt_tokens), 0)::int AS "promptTokens",
  coalesce(sum(m.completion_tokens), 0)::int AS "completionTokens",
  round(percentile_cont(0.5) WITHIN GROUP (ORDER BY m.latency_ms))::int AS "latencyP50Ms",
  round(percentile_cont(0.95) WITHIN GROUP (ORDER BY m.latency_ms))::int AS "latencyP95Ms",
  round(percentile_cont(0.5) WITHIN GROUP (ORDER BY m.ttft_ms))::int AS "ttftP50Ms",
  round(percentile_cont(0.95) WITHIN GROUP (ORDER BY m.ttft_ms))::int AS "ttftP95Ms"`;

/** The dashboard's figures, computed in Postgres from the stored messages. */
@Injectable()
export class DashboardRepository {
  private readonly log = new Logger('Dashboard');

  constructor(private readonly dataSource: DataSource) {}

  /**
   * One row per minute of the last `minutes` (the current one included, oldest first, empty
   * minutes as zeros) and the totals over them, in one statement: every completion's assistant
   * message counts once, in the minute it started; errors are answers no backend gave.
   */
  async traffic(minutes: number): Promise<{ series: MinuteFigures[]; totals: TrafficFigures }> {
    const rows: (MinuteFigures & { minute: string | null })[] = await this.dataSource.query(
      `WITH span AS (
         SELECT date_trunc('minute', now()) - ($1::int - 1) * interval '1 minute' AS first,
                date_trunc('minute', now()) AS last),
       buckets AS (
         SELECT generate_series(span.first, span.last, interval '1 minute') AS minute FROM span),
       m AS (
         SELECT date_trunc('minute', created_at) AS minute, created_at, outcome, cache_hit,
                prompt_tokens, completion_tokens, latency_ms, ttft_ms
           FROM messages, span
          WHERE role = 'assistant' AND created_at >= span.first)
       SELECT to_char(b.minute AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS minute, ${FIGURES}
         FROM buckets b LEFT JOIN m ON m.minute = b.minute
        GROUP BY GROUPING SETS ((b.minute), ())
        ORDER BY b.minute NULLS LAST`,
      [minutes],
    );
    const totalsRow = rows.pop()!;
    const { minute: _none, ...totals } = totalsRow;
    return { series: rows as MinuteFigures[], totals };
  }

  /**
   * The standbys streaming from this server (empty when there are none, when this is a standby
   * itself, or on the embedded database).
   */
  async replication(): Promise<ReplicaRow[]> {
    try {
      return await this.dataSource.query(
        `SELECT application_name AS name, host(client_addr) AS "clientAddr", state,
                sync_state AS "syncState",
                extract(epoch FROM replay_lag)::float8 AS "replayLagSeconds"
           FROM pg_stat_replication ORDER BY application_name, client_addr`,
      );
    } catch (err) {
      this.log.warn({ err }, 'replication status unavailable');
      return [];
    }
  }
}
