import { Controller, Get, HttpStatus, Inject, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Probe, requestMeta } from '@enclave/http';
import { READINESS_CHECKS, type ReadinessCheck, ReadinessState } from './readiness.js';

/** Probes answer without credentials (load balancers and systemd have none), unthrottled. */
@Probe()
@Controller()
export class HealthController {
  constructor(
    @Inject(READINESS_CHECKS) private readonly checks: ReadinessCheck[],
    private readonly state: ReadinessState,
  ) {}

  /** Liveness: the process answers. Nothing else is checked, so a database outage never restarts it. */
  @Get('healthz')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Readiness: every check passes; 503 names each failing check, and says why only to callers
   * on this host (probes, operators): through nginx a client learns which part is down, not its
   * internals.
   */
  @Get('readyz')
  async readyz(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    if (this.state.isShuttingDown) {
      void reply.status(HttpStatus.SERVICE_UNAVAILABLE);
      return { status: 'unavailable', reasons: { process: 'shutting down' } };
    }
    const results = await Promise.all(
      this.checks.map(async (c) => [c.name, await c.check()] as const),
    );
    const detail = isLoopback(requestMeta(req).ip);
    const reasons = Object.fromEntries(
      results
        .filter(([, reason]) => reason !== null)
        .map(([name, reason]) => [name, detail ? reason : 'unavailable']),
    );
    if (Object.keys(reasons).length) {
      void reply.status(HttpStatus.SERVICE_UNAVAILABLE);
      return { status: 'unavailable', reasons };
    }
    return { status: 'ready', checks: results.map(([name]) => name) };
  }
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (how Node shows IPv4 peers on a dual stack). */
export function isLoopback(ip: string | null): boolean {
  if (!ip) return false;
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return v4.startsWith('127.') || ip === '::1';
}
