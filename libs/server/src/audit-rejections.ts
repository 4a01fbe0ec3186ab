import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AuditLog } from '@enclave/audit';
import { type AuthenticatedRequest, principalActor } from '@enclave/auth';
import { type ApiError, type RejectionRecorder, requestMeta } from '@enclave/http';
import { DataSource } from 'typeorm';

/**
 * Every refused or failed request leaves one audit event (and nothing else): authentication and
 * authorization refusals as `auth.request.denied`, other client errors as `request.rejected`,
 * server-side failures as `request.failed`.
 */
@Injectable()
export class AuditRejections implements RejectionRecorder {
  constructor(
    private readonly audit: AuditLog,
    private readonly dataSource: DataSource,
  ) {}

  async record(req: FastifyRequest & AuthenticatedRequest, error: ApiError): Promise<void> {
    const status = error.getStatus();
    const action =
      status === 401 || status === 403
        ? 'auth.request.denied'
        : status < 500
          ? 'request.rejected'
          : 'request.failed';
    const bearer = /^Bearer\s+(ek_[0-9a-f]{8})/i.exec(req.headers.authorization ?? '');
    await this.audit.append(this.dataSource.manager, {
      actor: req.principal ? principalActor(req.principal) : { type: 'anonymous' },
      action,
      target: {
        type: 'route',
        id: `${req.method} ${req.routeOptions.url ?? req.url.split('?')[0]}`,
      },
      outcome: status < 500 ? 'denied' : 'failure',
      meta: requestMeta(req),
      payload: { status, code: error.code, keyPrefix: bearer?.[1] ?? null },
    });
  }
}
