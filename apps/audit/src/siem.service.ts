import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { SiemForwarder, type SiemStatus } from '@enclave/audit-chain';
import { type Config, InjectConfig } from '@enclave/config';
import { databaseUrl } from '@enclave/db';
import { Metrics } from '@enclave/observability';

/** Forwards sealed audit events to the SIEM when AUDIT_SIEM_URL is set (docs/audit.md). */
@Injectable()
export class SiemService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('SiemForwarder');
  private forwarder: SiemForwarder | null = null;

  constructor(
    @InjectConfig() private readonly config: Config,
    private readonly metrics: Metrics,
  ) {}

  get status(): SiemStatus | null {
    return this.forwarder?.status ?? null;
  }

  onApplicationBootstrap(): void {
    const receiver = this.config.audit.siem;
    if (!receiver) return;
    const log = this.log;
    const metrics = this.metrics;
    metrics.siemConnection(false);
    metrics.siemEventsForwarded(0);
    this.forwarder = new SiemForwarder({
      databaseUrl: databaseUrl(this.config),
      receiver,
      intervalMs: this.config.audit.sealIntervalMs,
      settleMs: receiver.settleMs,
      log: {
        info: (obj, msg) => log.log(obj, msg),
        warn: (obj, msg) => log.warn(obj, msg),
        error: (obj, msg) => log.error(obj, msg),
      },
      observer: {
        forwarded: (n) => metrics.siemEventsForwarded(n),
        lag: (n) => metrics.siemLagPositions(n),
        connected: (c) => metrics.siemConnection(c),
      },
    });
    this.forwarder.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.forwarder?.stop();
  }
}
