import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { AuditLog } from '@enclave/audit';
import {
  type DatabaseVerdict,
  Keyring,
  localVerificationKeys,
  type VerificationVerdict,
  VERIFY_HEARTBEAT_MS,
  verifyDatabaseChain,
  type VerifyJob,
  VerifyJobsRepository,
} from '@enclave/audit-chain';
import { sqlOf } from '@enclave/db';
import { type Config, InjectConfig } from '@enclave/config';
import { PeriodicTask } from '@enclave/observability';
import { DataSource } from 'typeorm';
import { SealerService } from './sealer.service.js';

const POLL_MS = 1_000;
const UNDEFINED_TABLE = '42P01';
const ACTOR = { type: 'system' as const, id: null, label: 'audit' };

/** What the console shows of a verdict: the first problem, not all hundred. */
export function verificationVerdict(v: DatabaseVerdict): VerificationVerdict {
  const bad = v.problems[0];
  return {
    ok: v.ok,
    checkedEvents: v.events,
    positions: v.positions,
    checkpoints: v.checkpoints,
    unsealedEvents: v.unsealed,
    firstBad: bad ? { position: bad.pos, problem: bad.kind, message: bad.message } : null,
  };
}

/**
 * Runs the verifications of the whole chain asked for in the console: claims one pending row at a
 * time (`FOR UPDATE SKIP LOCKED`), walks the chain with the same verifier as `enclave audit
 * verify --db`, writes its progress (the heartbeat by which a dead run is taken over) every few
 * seconds, and records the verdict on the row and in the audit trail. Here rather than in the
 * admin API: a walk over millions of events takes minutes, and the audit host holds the keyring.
 */
@Injectable()
export class VerifyRunnerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('AuditVerify');
  private readonly loop = new PeriodicTask(() => this.drainWhenReady(), {
    name: 'verify runner',
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

  /** The published keyring, or the public half of this host's signing key. */
  private keys(): Keyring | null {
    const published = localVerificationKeys(this.config.audit);
    if (published) return published;
    return this.sealer.signingKey ? Keyring.ofKey(this.sealer.signingKey.publicKey) : null;
  }

  /** Runs pending verifications until none is left. */
  async drain(): Promise<void> {
    // Without a key the checkpoints cannot be checked; an instance that has one may take them.
    const keys = this.keys();
    if (!keys) return;
    const jobs = new VerifyJobsRepository(sqlOf(this.dataSource));
    for (let job = await jobs.claim(); job; job = await jobs.claim()) await this.run(job, keys);
  }

  private async run(job: VerifyJob, keys: Keyring): Promise<void> {
    const started = Date.now();
    const jobs = new VerifyJobsRepository(sqlOf(this.dataSource));
    let beat = started;
    try {
      const verdict = verificationVerdict(
        await verifyDatabaseChain(sqlOf(this.dataSource), keys, async (positions) => {
          if (Date.now() - beat < VERIFY_HEARTBEAT_MS) return;
          beat = Date.now();
          await jobs.progress(job.id, positions);
        }),
      );
      await this.finish(job, { verdict, error: null });
      this.log.log(
        {
          verificationId: job.id,
          ok: verdict.ok,
          positions: verdict.positions,
          ms: Date.now() - started,
        },
        'audit chain verified',
      );
    } catch (err) {
      this.log.error({ verificationId: job.id, err }, 'audit chain verification failed to run');
      await this.finish(job, { verdict: null, error: (err as Error).message });
    }
  }

  private async finish(
    job: VerifyJob,
    result: { verdict: VerificationVerdict; error: null } | { verdict: null; error: string },
  ): Promise<void> {
    await this.dataSource.transaction(async (db) => {
      await new VerifyJobsRepository(sqlOf(db)).finish(job.id, result);
      const { verdict, error } = result;
      await this.audit.append(db, {
        actor: ACTOR,
        action: 'audit.verification.finished',
        target: { type: 'audit_verification', id: job.id },
        // A SIEM rule on failures sees a broken chain as well as a run that could not finish.
        outcome: verdict?.ok ? 'success' : 'failure',
        payload: verdict
          ? {
              ok: verdict.ok,
              checkedEvents: verdict.checkedEvents,
              positions: verdict.positions,
              checkpoints: verdict.checkpoints,
              firstBad: verdict.firstBad,
              error: null,
            }
          : { ok: null, error },
      });
    });
  }
}
