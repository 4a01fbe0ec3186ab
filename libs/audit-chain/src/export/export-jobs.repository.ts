import type { Sql } from '@enclave/db';
import type { ExportFileFormat, ExportManifest } from './export-format.js';

/** An export asked for through the admin API: the row the console polls and the audit app works. */
export interface ExportJob {
  id: string;
  status: 'pending' | 'running' | 'done' | 'failed';
  format: ExportFileFormat;
  /** As requested (ISO times), not yet in the manifest's microsecond form. */
  filter: ExportManifest['filter'];
  events: number | null;
  dataSha256: string | null;
  error: string | null;
  fileName: string;
  createdAt: Date;
  createdBy: string;
  createdById: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

const COLUMNS = `id, status, format, filter, events, data_sha256 AS "dataSha256", error,
  file_name AS "fileName", created_at AS "createdAt", created_by_label AS "createdBy",
  created_by AS "createdById", started_at AS "startedAt", finished_at AS "finishedAt"`;

/** A claim older than this is taken to be from an audit instance that died mid-export. */
const STALE_CLAIM = '15 minutes';

/** The SQL of `audit_exports`: the admin app adds and reads jobs, the audit app claims and finishes them. */
export class ExportJobsRepository {
  constructor(private readonly sql: Sql) {}

  async create(job: {
    id: string;
    format: ExportFileFormat;
    filter: ExportJob['filter'];
    createdById: string | null;
    createdBy: string;
    fileName: string;
  }): Promise<ExportJob> {
    const [row] = await this.sql<ExportJob>(
      `INSERT INTO audit_exports (id, format, filter, created_by, created_by_label, file_name)
       VALUES ($1, $2, $3::jsonb, $4, $5, $6) RETURNING ${COLUMNS}`,
      [
        job.id,
        job.format,
        JSON.stringify(job.filter),
        job.createdById,
        job.createdBy,
        job.fileName,
      ],
    );
    return row!;
  }

  /** The newest jobs first. */
  list(limit: number): Promise<ExportJob[]> {
    return this.sql<ExportJob>(
      `SELECT ${COLUMNS} FROM audit_exports ORDER BY created_at DESC, id LIMIT $1`,
      [limit],
    );
  }

  async get(id: string): Promise<ExportJob | null> {
    const [row] = await this.sql<ExportJob>(`SELECT ${COLUMNS} FROM audit_exports WHERE id = $1`, [
      id,
    ]);
    return row ?? null;
  }

  /**
   * Takes the oldest pending job (or one whose claim went stale) and marks it running;
   * `FOR UPDATE SKIP LOCKED`, so several audit instances never take the same one.
   */
  async claim(): Promise<ExportJob | null> {
    const [row] = await this.sql<ExportJob>(
      `UPDATE audit_exports SET status = 'running', started_at = now()
        WHERE id = (SELECT id FROM audit_exports
                     WHERE status = 'pending'
                        OR (status = 'running' AND started_at < now() - interval '${STALE_CLAIM}')
                     ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING ${COLUMNS}`,
    );
    return row ?? null;
  }

  async finish(
    id: string,
    status: 'done' | 'failed',
    result: { events: number | null; dataSha256: string | null; error: string | null },
  ): Promise<void> {
    await this.sql(
      `UPDATE audit_exports SET status = $2, events = $3, data_sha256 = $4, error = $5,
              finished_at = now() WHERE id = $1`,
      [id, status, result.events, result.dataSha256, result.error],
    );
  }
}
