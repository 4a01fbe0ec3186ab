import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AuditLog } from '@enclave/audit';
import {
  type ExportFileKind,
  ExportFilesRepository,
  type ExportJob,
  ExportJobsRepository,
  localVerificationKeys,
  writeExport,
} from '@enclave/audit-chain';
import { sqlOf } from '@enclave/db';
import { type Config, InjectConfig } from '@enclave/config';
import { PeriodicTask } from '@enclave/observability';
import { DataSource } from 'typeorm';
import { SealerService } from './sealer.service.js';

const POLL_MS = 1_000;
const UNDEFINED_TABLE = '42P01';
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

  private claim(): Promise<ExportJob | null> {
    return new ExportJobsRepository(sqlOf(this.dataSource)).claim();
  }

  private async run(job: ExportJob): Promise<void> {
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
    job: ExportJob,
    status: 'done' | 'failed',
    result: { events: number | null; dataSha256: string | null; error: string | null },
    files?: Record<ExportFileKind, string>,
  ): Promise<void> {
    await this.dataSource.transaction(async (db) => {
      const stored = new ExportFilesRepository(sqlOf(db));
      for (const [kind, path] of Object.entries(files ?? {})) {
        await stored.store(job.id, kind as ExportFileKind, path);
      }
      await new ExportJobsRepository(sqlOf(db)).finish(job.id, status, result);
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
