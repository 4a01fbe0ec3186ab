import { Controller, Get, Query, StreamableFile } from '@nestjs/common';
import { Roles } from '@enclave/auth';
import { line, type UsageReport, UsageDimension } from '@enclave/contracts';
import { ApiError, type Sendable, ZodQuery } from '@enclave/http';
import { z } from 'zod';
import { UsageReportsService } from './usage-reports.service.js';

const ReportQuery = z.strictObject({
  by: UsageDimension.default('day'),
  from: z.iso.date(),
  to: z.iso.date(),
  groupId: z.uuid().optional(),
  userId: z.uuid().optional(),
  model: line().trim().min(1).max(256).optional(),
  format: z.enum(['json', 'csv']).default('json'),
});
type ReportQuery = z.infer<typeof ReportQuery>;

/** The longest span one report may cover. */
const MAX_DAYS = 366;

/**
 * `GET /api/admin/reports/usage?by=group|user|model|day&from&to[&groupId][&userId][&model]
 * [&format=csv]`: requests, tokens and cost over whole UTC days, for admins and auditors.
 */
@Controller('api/admin/reports')
@Roles('admin', 'auditor')
export class UsageReportsController {
  constructor(private readonly reports: UsageReportsService) {}

  @Get('usage')
  async usage(
    @Query(new ZodQuery(ReportQuery)) q: ReportQuery,
  ): Promise<Sendable<UsageReport> | StreamableFile> {
    const days = (Date.parse(q.to) - Date.parse(q.from)) / 86_400_000;
    if (days < 0 || days >= MAX_DAYS) {
      throw new ApiError(
        400,
        'invalid_range',
        `'from' must not be after 'to', and a report covers at most ${MAX_DAYS} days.`,
        { param: 'from' },
      );
    }
    const { by, format, ...filter } = q;
    if (format === 'json') return this.reports.report(by, filter);
    const csv = await this.reports.csv(by, filter);
    return new StreamableFile(Buffer.from(csv, 'utf8'), {
      type: 'text/csv; charset=utf-8',
      disposition: `attachment; filename="usage-by-${by}-${q.from}-${q.to}.csv"`,
    });
  }
}
