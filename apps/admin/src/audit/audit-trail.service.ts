import { Injectable } from '@nestjs/common';
import {
  AuditChainRepository,
  type Keyring,
  localVerificationKeys,
  verifyDatabaseChain,
} from '@enclave/audit-chain';
import { sqlOf } from '@enclave/db';
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
    const verdict = await verifyDatabaseChain(sqlOf(this.dataSource), this.keys());
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

  /**
   * The published keyring (public keys only: the admin app never needs the signing key), or on a
   * single-key install without one, the public half of the signing key file.
   */
  private keys(): Keyring {
    const { keyringFile, signingKeyFile } = this.config.audit;
    let keys: Keyring | null = null;
    let why = 'neither file exists here';
    try {
      keys = localVerificationKeys(this.config.audit);
    } catch (err) {
      why = (err as Error).message;
    }
    if (!keys) {
      throw new ApiError(
        503,
        'audit_key_unavailable',
        `The admin app has no audit keyring (${keyringFile}) or key (${signingKeyFile}) to check checkpoints with (${why}); publish the keyring to this host (AUDIT_KEYRING_FILE) or run \`enclave audit verify\` on the audit host.`,
        { type: 'server_error' },
      );
    }
    return keys;
  }
}
