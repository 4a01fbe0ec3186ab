import { Injectable } from '@nestjs/common';
import { GroupsRepository, UsersRepository } from '@enclave/auth';
import { type Config, InjectConfig } from '@enclave/config';
import type { UsageReport } from '@enclave/contracts';
import {
  type UsageDimension,
  UsageEventsRepository,
  type UsageReportFilter,
} from '@enclave/policy';
import { stringify } from 'csv-stringify/sync';

/** Usage and cost by group, user, model or day, from the usage history (never from messages). */
@Injectable()
export class UsageReportsService {
  constructor(
    private readonly usage: UsageEventsRepository,
    private readonly groups: GroupsRepository,
    private readonly users: UsersRepository,
    @InjectConfig() private readonly config: Config,
  ) {}

  async report(by: UsageDimension, filter: UsageReportFilter): Promise<UsageReport> {
    const rows = await this.usage.report(by, filter);
    const keys = rows.map((r) => r.key).filter((k): k is string => k !== null);
    const labels =
      by === 'group'
        ? await this.groups.namesOf(keys)
        : by === 'user'
          ? await this.users.emailsOf(keys)
          : new Map(keys.map((k) => [k, k]));
    return {
      by,
      from: filter.from,
      to: filter.to,
      currency: this.config.billing.currency,
      rows: rows.map((r) => ({
        ...r,
        label:
          r.key === null
            ? '(no group)'
            : (labels.get(r.key) ?? (by === 'group' ? '(deleted group)' : r.key)),
      })),
    };
  }

  /** The report as CSV, one line per row, with a header line. */
  async csv(by: UsageDimension, filter: UsageReportFilter): Promise<string> {
    const report = await this.report(by, filter);
    return stringify(
      report.rows.map((r) => [
        r.key ?? '',
        r.label,
        r.requests,
        r.promptTokens,
        r.completionTokens,
        r.cost.toFixed(6),
        report.currency,
      ]),
      {
        header: true,
        columns: [
          by,
          'label',
          'requests',
          'prompt_tokens',
          'completion_tokens',
          'cost',
          'currency',
        ],
      },
    );
  }
}
