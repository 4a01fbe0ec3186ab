import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AuditLog,
  copyOutOf,
  type ExportFileFormat,
  type ExportFileKind,
  ExportFilesRepository,
  localVerificationKeys,
  sqlOf,
  writeExport,
} from '@enclave/audit';
import { type Config, InjectConfig } from '@enclave/config';
import { PeriodicTask } from '@enclave/observability';
import { DataSource } from 'typeorm';
import { SealerService } from './sealer.service.js';

const POLL_MS = 1_000;
const UNDEFINED_TABLE = '42P01';
/** A claim older than this is taken to be from an instance that died mid-export. */
const STALE_CLAIM = '15 minutes';

interface Claimed {
  id: string;
  format: ExportFileFormat;
  filter: { from: string | null; to: string | null; actorId: string | null; action: string | null };
  fileName: string;
  createdBy: string;
}

const ACTOR = { type: 'system' as const, id: null, label: 'audit' };

/**
 * Produces the audit exports requested through the admin API: claims one pending row at a time
 * (`FOR UPDATE SKIP LOCKED`, so several audit instances never take the same one), writes the data
 * file, links file and signed manifest into AUDIT_EXPORT_DIR with the same exporter as
 * `enclave audit export`, and records the outcome on the row and in the audit trail.
 */
@Injectable()
export class ExportRunnerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('AuditExports');
  private readonly loop = new PeriodicTask(() => this.drainWhenReady(), {
    name: 'export runner',
    everyMs: POLL_MS,
    log: this.log,
  });

  constructor(
    private readonly dataSource: DataSource,
    private readonly sealer: SealerService,
    private readonly audit: AuditLog,
    @InjectConfig() private readonly config: Config,
  ) {}

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  private async drainWhenReady(): Promise<void> {
    try {
      await this.drain();
    } catch (err) {
      // Before the migrations ran (embedded start-up) there is no table yet: try again later.
      if ((err as { code?: string }).code !== UNDEFINED_TABLE) throw err;
    }
  }

  /** Runs pending exports until none is left. */
  async drain(): Promise<void> {
    // Without the key nothing can be signed; another instance that has it may take them.
    if (!this.sealer.signingKey) return;
    for (let job = await this.claim(); job; job = await this.claim()) await this.run(job);
  }

  private async claim(): Promise<Claimed | null> {
    const [claimed] = await sqlOf(this.dataSource)<Claimed>(
      `UPDATE audit_exports SET status = 'running', started_at = now()
        WHERE id = (SELECT id FROM audit_exports
                     WHERE status = 'pending'
                        OR (status = 'running' AND started_at < now() - interval '${STALE_CLAIM}')
                     ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING id, format, filter, file_name AS "fileName", created_by_label AS "createdBy"`,
    );
    return claimed ?? null;
  }

  private async run(job: Claimed): Promise<void> {
    const started = Date.now();
    const dir = this.config.audit.exportDir;
    const files: Record<ExportFileKind, string> = {
      data: join(dir, `${job.fileName}.${job.format}`),
      links: join(dir, `${job.fileName}.links.jsonl`),
      manifest: join(dir, `${job.fileName}.manifest.json`),
    };
    try {
      const { manifest } = await writeExport({
        sql: sqlOf(this.dataSource),
        copyOut: copyOutOf(this.dataSource),
        dir: this.config.audit.exportDir,
        name: job.fileName,
        format: job.format,
        filter: {
          from: job.filter.from ? new Date(job.filter.from) : null,
          to: job.filter.to ? new Date(job.filter.to) : null,
          actorId: job.filter.actorId,
          action: job.filter.action,
        },
        signingKey: this.sealer.signingKey!,
        // Checkpoints of other hosts' keys and of keys rotated out verify by the keyring.
        keys: localVerificationKeys(this.config.audit) ?? undefined,
        createdBy: job.createdBy,
      });
      const { events, sha256 } = manifest.dataFile;
      await this.finish(job, 'done', { events, dataSha256: sha256, error: null }, files);
      this.log.log({ exportId: job.id, events, ms: Date.now() - started }, 'audit export written');
    } catch (err) {
      const error = (err as Error).message;
      this.log.error({ exportId: job.id, err: error }, 'audit export failed');
      await this.finish(job, 'failed', { events: null, dataSha256: null, error });
    } finally {
      // The files live in the database now (any host's admin app serves them), or failed.
      await Promise.all(Object.values(files).map((f) => rm(f, { force: true })));
    }
  }

  private async finish(
    job: Claimed,
    status: 'done' | 'failed',
    result: { events: number | null; dataSha256: string | null; error: string | null },
    files?: Record<ExportFileKind, string>,
  ): Promise<void> {
    await this.dataSource.transaction(async (db) => {
      const stored = new ExportFilesRepository(sqlOf(db));
      for (const [kind, path] of Object.entries(files ?? {})) {
        await stored.store(job.id, kind as ExportFileKind, path);
      }
      await db.query(
        `UPDATE audit_exports SET status = $2, events = $3, data_sha256 = $4, error = $5,
                finished_at = now() WHERE id = $1`,
        [job.id, status, result.events, result.dataSha256, result.error],
      );
      await this.audit.append(db, {
        actor: ACTOR,
        action: 'audit.export.finished',
        target: { type: 'audit_export', id: job.id },
        outcome: status === 'done' ? 'success' : 'failure',
        payload: { via: 'api', format: job.format, fileName: job.fileName, ...result },
      });
    });
  }
}
