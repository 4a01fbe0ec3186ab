import { Injectable } from '@nestjs/common';
import { AuditLog } from '@enclave/audit';
import { AuditChainRepository, type VerifyJob, VerifyJobsRepository } from '@enclave/audit-chain';
import { type Principal, principalActor } from '@enclave/auth';
import { sqlOf } from '@enclave/db';
import { ApiError, type RequestMeta } from '@enclave/http';
import { DataSource } from 'typeorm';

/**
 * The state of the hash chain and its verifications, for the console. A verification is a job
 * (`audit_verifications`) that the audit app runs, as it runs exports: the admin app asks and
 * reads, and never walks the chain on its own event loop.
 */
@Injectable()
export class AuditTrailService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
  ) {}

  async status() {
    const repo = new AuditChainRepository(sqlOf(this.dataSource));
    const [head, queue, checkpoint] = await Promise.all([
      repo.head(),
      repo.queueStats(),
      repo.lastCheckpoint(),
    ]);
    return {
      sealedEvents: head.pos,
      unsealedEvents: queue.unsealed,
      oldestUnsealedSeconds: queue.oldestQueuedSeconds,
      head: head.pos > 0 ? { position: head.pos, hash: head.hash } : null,
      lastCheckpoint: checkpoint
        ? { position: checkpoint.pos, hash: checkpoint.hash, signedAt: checkpoint.signedAt }
        : null,
    };
  }

  /**
   * Asks for a verification; while one is pending or running, returns that one instead (a
   * second walk of the same chain would tell nothing new) with `created: false`.
   */
  async requestVerification(
    who: Principal,
    meta: RequestMeta,
  ): Promise<{ job: VerifyJob; created: boolean }> {
    return this.dataSource.transaction(async (db) => {
      const asked = await new VerifyJobsRepository(sqlOf(db)).createUnlessOpen({
        createdById: who.userId,
        createdBy: who.email,
      });
      if (asked.created) {
        await this.audit.append(db, {
          actor: principalActor(who),
          action: 'audit.verification.requested',
          target: { type: 'audit_verification', id: asked.job.id },
          outcome: 'success',
          meta,
          payload: {},
        });
      }
      return asked;
    });
  }

  /** The newest verifications first. */
  verifications(): Promise<VerifyJob[]> {
    return new VerifyJobsRepository(sqlOf(this.dataSource)).list(20);
  }

  async verification(id: string): Promise<VerifyJob> {
    const job = await new VerifyJobsRepository(sqlOf(this.dataSource)).get(id);
    if (!job) {
      throw new ApiError(404, 'verification_not_found', `No audit verification with id ${id}.`);
    }
    return job;
  }
}
