import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AuditLog } from '@enclave/audit';
import { type AuthenticatedRequest, principalActor } from '@enclave/auth';
import { type Config, InjectConfig } from '@enclave/config';
import { leadingApiKeyPrefix } from '@enclave/contracts';
import {
  type ApiError,
  type RejectionRecorder,
  requestMeta,
  type RequestMeta,
} from '@enclave/http';
import { PeriodicTask } from '@enclave/observability';
import { DataSource } from 'typeorm';

/** At most this many addresses have a window open; past it, a refusal is recorded on its own. */
const MAX_WINDOWS = 10_000;

/** Anonymous refusals of one kind from one address since the window opened. */
interface DenialWindow {
  action: string;
  openedAt: number;
  /** Refusals after the first (which was recorded when it happened). */
  repeated: number;
  codes: Record<string, number>;
  meta: RequestMeta;
}

/**
 * Every refused or failed request is recorded in the audit trail: authentication and
 * authorization refusals as `auth.request.denied`, other client errors as `request.rejected`,
 * server-side failures as `request.failed`. Refusals of callers without valid credentials are
 * aggregated per client address and window: the first is recorded at once, the rest as one
 * event with a count when the window closes, so anonymous traffic cannot grow the chain without
 * limit.
 */
@Injectable()
export class AuditRejections implements RejectionRecorder, OnModuleDestroy {
  private readonly log = new Logger('AuditRejections');
  private readonly windowMs: number;
  private readonly windows = new Map<string, DenialWindow>();
  private readonly sweeper: PeriodicTask | null;

  constructor(
    private readonly audit: AuditLog,
    private readonly dataSource: DataSource,
    @InjectConfig() config: Config,
  ) {
    this.windowMs = config.auth.denialWindowSeconds * 1000;
    this.sweeper =
      this.windowMs > 0
        ? new PeriodicTask(() => this.closeWindows(Date.now()), {
            name: 'closing denial windows',
            everyMs: Math.min(this.windowMs, 10_000),
            log: this.log,
          }).start()
        : null;
  }

  async record(req: FastifyRequest & AuthenticatedRequest, error: ApiError): Promise<void> {
    const status = error.getStatus();
    const action =
      status === 401 || status === 403
        ? 'auth.request.denied'
        : status < 500
          ? 'request.rejected'
          : 'request.failed';
    const meta = requestMeta(req);
    if (!req.principal && status < 500 && this.windowMs > 0 && this.counted(action, error, meta)) {
      return;
    }
    const bearer = /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '');
    await this.audit.append(this.dataSource.manager, {
      actor: req.principal ? principalActor(req.principal) : { type: 'anonymous' },
      action,
      target: {
        type: 'route',
        id: `${req.method} ${req.routeOptions.url ?? req.url.split('?')[0]}`,
      },
      outcome: status < 500 ? 'denied' : 'failure',
      meta,
      payload: {
        status,
        code: error.code,
        keyPrefix: bearer ? leadingApiKeyPrefix(bearer[1]!) : null,
      },
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.sweeper?.stop();
    await this.closeWindows(Number.POSITIVE_INFINITY);
  }

  /** True when the refusal joins an open window (and is recorded later, as part of its count). */
  private counted(action: string, error: ApiError, meta: RequestMeta): boolean {
    const key = `${meta.ip ?? 'unknown'} ${action}`;
    const open = this.windows.get(key);
    if (open && Date.now() - open.openedAt < this.windowMs) {
      open.repeated++;
      open.codes[error.code] = (open.codes[error.code] ?? 0) + 1;
      return true;
    }
    if (!open && this.windows.size >= MAX_WINDOWS) return false;
    if (open) void this.closeWindow(key, open);
    this.windows.set(key, { action, openedAt: Date.now(), repeated: 0, codes: {}, meta });
    return false;
  }

  private async closeWindows(now: number): Promise<void> {
    for (const [key, w] of this.windows) {
      if (now - w.openedAt >= this.windowMs) await this.closeWindow(key, w);
    }
  }

  private async closeWindow(key: string, w: DenialWindow): Promise<void> {
    if (this.windows.get(key) === w) this.windows.delete(key);
    if (w.repeated === 0) return;
    try {
      await this.audit.append(this.dataSource.manager, {
        actor: { type: 'anonymous' },
        action: w.action,
        target: { type: 'client', id: w.meta.ip ?? 'unknown' },
        outcome: 'denied',
        meta: { ...w.meta, requestId: null },
        payload: {
          aggregated: true,
          count: w.repeated,
          codes: w.codes,
          from: new Date(w.openedAt).toISOString(),
          windowSeconds: this.windowMs / 1000,
        },
      });
    } catch (err) {
      this.log.error({ err, count: w.repeated }, 'could not record aggregated refusals');
    }
  }
}
