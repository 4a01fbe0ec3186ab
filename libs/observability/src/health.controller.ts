import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Public } from '@enclave/http';
import { READINESS_CHECKS, type ReadinessCheck, ReadinessState } from './readiness.js';

/** Probes answer without credentials: load balancers and systemd have none. */
@Public()
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

  /** Readiness: every check passes; 503 names each failing check and why. */
  @Get('readyz')
  async readyz(@Res({ passthrough: true }) reply: FastifyReply) {
    if (this.state.isShuttingDown) {
      void reply.status(HttpStatus.SERVICE_UNAVAILABLE);
      return { status: 'unavailable', reasons: { process: 'shutting down' } };
    }
    const results = await Promise.all(
      this.checks.map(async (c) => [c.name, await c.check()] as const),
    );
    const reasons = Object.fromEntries(results.filter(([, reason]) => reason !== null));
    if (Object.keys(reasons).length) {
      void reply.status(HttpStatus.SERVICE_UNAVAILABLE);
      return { status: 'unavailable', reasons };
    }
    return { status: 'ready', checks: results.map(([name]) => name) };
  }
}
