import { randomUUID } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Injectable, StreamableFile } from '@nestjs/common';
import { AuditLog } from '@enclave/audit';
import { ExportFilesRepository, type ExportJob, ExportJobsRepository } from '@enclave/audit-chain';
import { sqlOf } from '@enclave/db';
import { type Principal, principalActor } from '@enclave/auth';
import { type Config, InjectConfig } from '@enclave/config';
import { ApiError, type RequestMeta } from '@enclave/http';
import { DataSource } from 'typeorm';

export type ExportFormat = 'jsonl' | 'csv';
export type ExportFile = 'data' | 'manifest' | 'links';

export interface ExportRequest {
  format: ExportFormat;
  from: Date | null;
  to: Date | null;
  actorId: string | null;
  action: string | null;
}

/** An export as the API shows it. */
export type ExportView = ExportJob;

/** The files of an export, by what the API calls them. */
const FILES: Record<ExportFile, (row: ExportView) => { name: string; type: string }> = {
  data: (r) => ({
    name: `${r.fileName}.${r.format}`,
    type: r.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
  }),
  manifest: (r) => ({ name: `${r.fileName}.manifest.json`, type: 'application/json' }),
  links: (r) => ({ name: `${r.fileName}.links.jsonl`, type: 'application/x-ndjson' }),
};

/**
 * Audit exports through the API. The request is a row (pending) plus its audit event; the audit
 * app, which holds the signing key, produces the files (apps/audit ExportRunner) and stores them in
 * the database, from where any host serves a download, each one audited. (Exports made before
 * the files were stored there are read from the export directory.)
 */
@Injectable()
export class AuditExportsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
    @InjectConfig() private readonly config: Config,
  ) {}

  async request(req: ExportRequest, who: Principal, meta: RequestMeta): Promise<ExportView> {
    const filter = {
      from: req.from?.toISOString() ?? null,
      to: req.to?.toISOString() ?? null,
      actorId: req.actorId,
      action: req.action,
    };
    const id = randomUUID();
    // Sortable by time in a directory listing, unique by the id.
    const fileName = `audit-${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}-${id}`;
    return this.dataSource.transaction(async (db) => {
      const row = await new ExportJobsRepository(sqlOf(db)).create({
        id,
        format: req.format,
        filter,
        createdById: who.userId,
        createdBy: who.email,
        fileName,
      });
      await this.audit.append(db, {
        actor: principalActor(who),
        action: 'audit.export.created',
        target: { type: 'audit_export', id: row.id },
        outcome: 'success',
        meta,
        payload: {
          via: 'api',
          format: req.format,
          filter,
          fileName,
          events: null,
          dataSha256: null,
        },
      });
      return row;
    });
  }

  list(): Promise<ExportView[]> {
    return this.jobs().list(200);
  }

  async get(id: string): Promise<ExportView> {
    const row = await this.jobs().get(id);
    if (!row) throw new ApiError(404, 'export_not_found', `No audit export with id ${id}.`);
    return row;
  }

  private jobs(): ExportJobsRepository {
    return new ExportJobsRepository(sqlOf(this.dataSource));
  }

  /** One file of a finished export as an attachment; the download is audited first. */
  async download(
    id: string,
    file: ExportFile,
    who: Principal,
    meta: RequestMeta,
  ): Promise<StreamableFile> {
    const row = await this.get(id);
    if (row.status !== 'done') {
      throw new ApiError(
        409,
        'export_not_ready',
        row.status === 'failed'
          ? `The export failed and has no files: ${row.error ?? 'unknown error'}. Request a new one.`
          : `The export is ${row.status}; download it when its status is done.`,
      );
    }
    const { name, type } = FILES[file](row);
    const stored = new ExportFilesRepository(sqlOf(this.dataSource));
    const storedBytes = await stored.size(id, file);
    const path = join(this.config.audit.exportDir, name);
    if (storedBytes === null && !existsSync(path)) {
      throw new ApiError(
        404,
        'export_not_found',
        `The files of export ${id} are neither in the database nor in the export directory (${this.config.audit.exportDir}); request a new export.`,
      );
    }
    await this.dataSource.transaction((db) =>
      this.audit.append(db, {
        actor: principalActor(who),
        action: 'audit.export.downloaded',
        target: { type: 'audit_export', id },
        outcome: 'success',
        meta,
        payload: { file, fileName: name, dataSha256: row.dataSha256 },
      }),
    );
    const disposition = `attachment; filename="${name}"`;
    if (storedBytes !== null) {
      return new StreamableFile(Readable.from(stored.read(id, file)), {
        type,
        length: storedBytes,
        disposition,
      });
    }
    return new StreamableFile(createReadStream(path), {
      type,
      length: statSync(path).size,
      disposition,
    });
  }
}
