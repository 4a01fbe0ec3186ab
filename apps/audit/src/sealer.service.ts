import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import {
  AuditSealer,
  generateSigningKey,
  Keyring,
  loadSigningKey,
  type SealerStatus,
  type SigningKey,
} from '@enclave/audit-chain';
import { type Config, InjectConfig } from '@enclave/config';
import { databaseUrl } from '@enclave/db';
import { Metrics } from '@enclave/observability';
import { DataSource } from 'typeorm';
import { sealQueueNow } from './sealer-lag.js';

/** Runs the audit sealer in the audit app: active when it holds the lock, standby otherwise. */
@Injectable()
export class SealerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('AuditSealer');
  private sealer: AuditSealer | null = null;
  readonly signingKey: SigningKey | null;

  constructor(
    @InjectConfig() private readonly config: Config,
    private readonly metrics: Metrics,
    private readonly dataSource: DataSource,
  ) {
    this.signingKey = this.loadKey();
  }

  get status(): SealerStatus | null {
    return this.sealer?.status ?? null;
  }

  onApplicationBootstrap(): void {
    const log = this.log;
    this.sealer = new AuditSealer({
      databaseUrl: databaseUrl(this.config),
      signingKey: this.signingKey,
      checkpointEvery: this.config.audit.checkpointEvery,
      checkpointSeconds: this.config.audit.checkpointSeconds,
      intervalMs: this.config.audit.sealIntervalMs,
      unsealedAlertSeconds: this.config.audit.unsealedAlertSeconds,
      onQueueStats: (s) => this.metrics.auditQueue(s.unsealed, s.oldestQueuedSeconds),
      log: {
        info: (obj, msg) => log.log(obj, msg),
        warn: (obj, msg) => log.warn(obj, msg),
        error: (obj, msg) => log.error(obj, msg),
      },
    });
    this.sealer.start();
    const sealer = this.sealer;
    this.metrics.watchAuditSealer({
      lagSeconds: async () => {
        try {
          const stats = await sealQueueNow(this.dataSource);
          this.metrics.auditQueue(stats.unsealed, stats.oldestQueuedSeconds);
          return stats.oldestQueuedSeconds ?? 0;
        } catch {
          return null;
        }
      },
      lastRoundAt: () => sealer.status.lastRoundAt,
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.sealer?.stop();
  }

  private loadKey(): SigningKey | null {
    const path = this.config.audit.signingKeyFile;
    const key = loadSigningKey(path);
    if (key) {
      this.checkKeyring(key);
      return key;
    }
    if (!this.config.database.url) {
      // The embedded (demo) database: make the key the installer would have made.
      const made = generateSigningKey(path);
      this.log.warn(
        { path, keyId: made.keyId },
        'created an audit signing key for the embedded database',
      );
      return made;
    }
    this.log.error(
      { path },
      'no audit signing key: events are sealed but no checkpoint is signed; run `enclave audit keygen`',
    );
    return null;
  }

  /** Says so loudly when verification would not trust what this key signs (see enclave doctor). */
  private checkKeyring(key: SigningKey): void {
    const file = this.config.audit.keyringFile;
    let keyring: Keyring | null;
    try {
      keyring = Keyring.load(file);
    } catch (err) {
      this.log.error({ keyring: file, err }, 'the audit keyring is unreadable');
      return;
    }
    if (!keyring) return;
    const trusted = keyring.lookup(key.keyId, new Date().toISOString());
    if (!trusted.ok) {
      this.log.error(
        { keyId: key.keyId, keyring: file, problem: trusted.kind },
        `the audit signing key is not trusted by the keyring (${trusted.message}): its checkpoints will fail verification; add it with \`enclave audit keyring add\``,
      );
    }
  }
}
