import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { type Config, InjectConfig } from '@enclave/config';
import { PeriodicTask } from '@enclave/observability';
import { RuntimePoliciesService } from '@enclave/policy';
import { applyRetention, type RetentionResult } from '@enclave/privacy';
import { DataSource } from 'typeorm';
import { SealerService } from './sealer.service.js';

/**
 * The audit app's maintenance: every AUDIT_RETENTION_INTERVAL_SECONDS the active instance (the
 * one whose sealer holds the lock; a standby does nothing) creates audit partitions ahead and
 * applies the retention policies (docs/audit.md). A transaction lock inside `applyRetention`
 * also keeps two runs from overlapping should two instances both believe they are active.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('AuditRetention');
  private loop: PeriodicTask | null = null;
  lastResult: RetentionResult | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly policies: RuntimePoliciesService,
    private readonly sealer: SealerService,
    @InjectConfig() private readonly config: Config,
  ) {}

  onApplicationBootstrap(): void {
    this.loop = new PeriodicTask(
      async () => {
        if (this.sealer.status?.active) await this.runOnce(new Date());
      },
      {
        name: 'audit retention',
        everyMs: this.config.audit.retentionIntervalSeconds * 1_000,
        log: this.log,
      },
    ).start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop?.stop();
  }

  /** One run at `now`; errors are logged and the next tick tries again. */
  async runOnce(now: Date): Promise<RetentionResult | null> {
    try {
      const p = await this.policies.reload();
      const result = await applyRetention(
        this.dataSource,
        {
          audit: p.auditRetentionDays,
          messageDays: p.messageRetentionDays,
          usageDays: p.usageRetentionDays,
        },
        now,
      );
      this.lastResult = result;
      if (result.auditEventsPruned || result.messagesDeleted || result.partitionsCreated.length)
        this.log.log({ ...result }, 'audit retention applied');
      return result;
    } catch (err) {
      this.log.error({ err }, 'audit retention failed');
      return null;
    }
  }
}
