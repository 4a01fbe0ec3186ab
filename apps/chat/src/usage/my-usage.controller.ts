import { Controller, Get, Query } from '@nestjs/common';
import { CurrentPrincipal, type Principal } from '@enclave/auth';
import { type Config, InjectConfig } from '@enclave/config';
import { type MyUsage, queryInt } from '@enclave/contracts';
import { type Sendable, ZodQuery } from '@enclave/http';
import { UsageEventsRepository } from '@enclave/policy';
import { z } from 'zod';

const MyUsageQuery = z.strictObject({ days: queryInt(1, 366).optional() });

/** `GET /api/me/usage?days=30`: the caller's own requests, tokens and cost by day and model. */
@Controller('api/me')
export class MyUsageController {
  constructor(
    private readonly usage: UsageEventsRepository,
    @InjectConfig() private readonly config: Config,
  ) {}

  @Get('usage')
  async mine(
    @CurrentPrincipal() p: Principal,
    @Query(new ZodQuery(MyUsageQuery)) q: z.infer<typeof MyUsageQuery>,
  ): Promise<Sendable<MyUsage>> {
    const to = new Date();
    const from = new Date(to.getTime() - ((q.days ?? 30) - 1) * 86_400_000);
    const filter = {
      from: from.toISOString().slice(0, 10),
      to: to.toISOString().slice(0, 10),
      userId: p.userId,
    };
    const [byDay, byModel] = await Promise.all([
      this.usage.report('day', filter),
      this.usage.report('model', filter),
    ]);
    const labelled = (rows: typeof byDay) => rows.map((r) => ({ ...r, label: r.key ?? '' }));
    return {
      ...filter,
      currency: this.config.billing.currency,
      byDay: labelled(byDay),
      byModel: labelled(byModel),
    };
  }
}
