import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AuditChainRepository, parsePublicKey, sqlOf, verifyDatabaseChain } from '@enclave/audit';
import { type Config, InjectConfig } from '@enclave/config';
import { ApiError } from '@enclave/http';
import { DataSource } from 'typeorm';

/** The state of the hash chain and its verification, for the console. */
@Injectable()
export class AuditTrailService {
  constructor(
    private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: Config,
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

  /** Walks the whole chain in the database (keyset batches), as `enclave audit verify` does. */
  async verify() {
    const verdict = await verifyDatabaseChain(sqlOf(this.dataSource), this.publicKey());
    const bad = verdict.problems[0];
    return {
      ok: verdict.ok,
      checkedEvents: verdict.events,
      positions: verdict.positions,
      checkpoints: verdict.checkpoints,
      unsealedEvents: verdict.unsealed,
      firstBad: bad ? { position: bad.pos, problem: bad.kind, message: bad.message } : null,
    };
  }

  /** The checkpoints' public key: the public half of the signing key file. */
  private publicKey(): KeyObject {
    const path = this.config.audit.signingKeyFile;
    try {
      return parsePublicKey(readFileSync(path));
    } catch {
      throw new ApiError(
        503,
        'audit_key_unavailable',
        `The audit signing key (${path}) cannot be read by the admin app, so checkpoints cannot be checked; set AUDIT_SIGNING_KEY_FILE or run \`enclave audit verify\` on the audit host.`,
        { type: 'server_error' },
      );
    }
  }
}
