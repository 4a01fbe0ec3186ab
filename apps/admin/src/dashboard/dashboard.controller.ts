import { type Dashboard } from '@enclave/contracts';
import { Controller, Get, Query } from '@nestjs/common';
import { Roles } from '@enclave/auth';
import { queryInt, ZodQuery, type Sendable } from '@enclave/http';
import { BackendsRepository, UpstreamPool } from '@enclave/llm';
import { UsageEventsRepository } from '@enclave/policy';
import { z } from 'zod';
import { DashboardRepository } from './dashboard.repository.js';

const DashboardQuery = z.strictObject({
  minutes: queryInt(1, 1440).optional(),
});
type DashboardQuery = z.infer<typeof DashboardQuery>;

/**
 * Live figures for the console: `GET /api/admin/dashboard?minutes=60` (1–1440, default 60):
 * requests, errors, cache hits, tokens and latency per minute and in total, the backends with
 * their health as this instance sees it, and the streaming standbys. The traffic comes from the
 * usage history (libs/policy), so deleting conversations never changes it.
 */
@Controller('api/admin/dashboard')
@Roles('admin', 'auditor')
export class DashboardController {
  constructor(
    private readonly repo: DashboardRepository,
    private readonly usage: UsageEventsRepository,
    private readonly backends: BackendsRepository,
    private readonly pool: UpstreamPool,
  ) {}

  @Get()
  async get(@Query(new ZodQuery(DashboardQuery)) q: DashboardQuery): Promise<Sendable<Dashboard>> {
    const minutes = q.minutes ?? 60;
    const [traffic, rows, replication, status] = await Promise.all([
      this.usage.traffic(minutes),
      this.backends.list(),
      this.repo.replication(),
      this.pool.statusAcrossInstances(),
    ]);
    const health = new Map(status.map((s) => [s.name, s]));
    const backends = rows.map((row) => {
      const live = health.get(row.name);
      return {
        name: row.name,
        baseUrl: row.baseUrl,
        enabled: row.enabled,
        healthy: live ? live.healthy : null,
        state: live?.state ?? null,
        circuitOpen: live ? live.circuitOpen : null,
        lastError: live?.lastError ?? null,
        lastCheckedAt: live?.lastCheckedAt ?? null,
      };
    });
    return { minutes, ...traffic, backends, replication };
  }
}
