import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
  type StreamableFile,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuditEventsRepository } from '@enclave/audit-chain';
import { CurrentPrincipal, type Principal, Roles, UsersRepository } from '@enclave/auth';
import {
  AuditActionFilter,
  DayOrTime,
  ExportBody,
  ExportFile,
  type AuditEvent,
  type AuditExport,
  type AuditStatus,
  type AuditVerificationJob,
} from '@enclave/contracts';
import {
  ApiError,
  isUuid,
  line,
  MAX_BIGINT,
  queryInt,
  requestMeta,
  UuidParam,
  ZodBody,
  ZodQuery,
  type Sendable,
} from '@enclave/http';
import { z } from 'zod';
import { AuditExportsService } from './audit-exports.service.js';
import { AuditTrailService } from './audit-trail.service.js';

const DAY_MS = 86_400_000;

/** `from` as given; `to` excluded, a day as `to` includes that whole day. */
function bounds(from?: string, to?: string): { from: Date | null; to: Date | null } {
  const lower = from ? new Date(from) : null;
  const upper = to ? new Date(new Date(to).getTime() + (to.length === 10 ? DAY_MS : 0)) : null;
  if (lower && upper && lower >= upper) {
    throw new ApiError(400, 'invalid_range', "'from' must be before 'to'.", { param: 'from' });
  }
  return { from: lower, to: upper };
}

const EventsQuery = z.strictObject({
  from: DayOrTime.optional(),
  to: DayOrTime.optional(),
  actor: line().trim().min(1).max(320).optional(),
  action: AuditActionFilter.optional(),
  limit: queryInt(1, 500).optional(),
  before: z
    .string()
    .regex(/^[1-9]\d{0,18}$/, 'must be nextBefore of a previous page')
    // zod runs this even when the pattern failed: only digits reach BigInt.
    .refine(
      (v) => !/^\d+$/.test(v) || BigInt(v) <= MAX_BIGINT,
      'must be nextBefore of a previous page',
    )
    .optional(),
});
type EventsQuery = z.infer<typeof EventsQuery>;

/**
 * The audit trail for admins and auditors: search the events, the chain's status, full
 * verifications (run by the audit app), and signed exports (produced by the audit app, downloaded here). Auditors may do
 * all of it; none of it changes the trail except by appending the events that record it.
 */
@Controller('api/admin/audit')
@Roles('admin', 'auditor')
export class AuditController {
  constructor(
    private readonly events: AuditEventsRepository,
    private readonly trail: AuditTrailService,
    private readonly exports: AuditExportsService,
    private readonly users: UsersRepository,
  ) {}

  @Get('events')
  async list(
    @Query(new ZodQuery(EventsQuery)) q: EventsQuery,
  ): Promise<Sendable<{ data: AuditEvent[]; nextBefore: string | null }>> {
    // A user's email finds what they did by session and by API key alike.
    const user = q.actor && !isUuid(q.actor) ? await this.users.findByEmail(q.actor) : null;
    const page = await this.events.list({
      ...bounds(q.from, q.to),
      actor: q.actor ?? null,
      actorUserId: user?.id ?? null,
      action: q.action ?? null,
      before: q.before ?? null,
      limit: q.limit ?? 100,
    });
    return { data: page.items, nextBefore: page.next };
  }

  @Get('status')
  status(): Promise<Sendable<AuditStatus>> {
    return this.trail.status();
  }

  /**
   * Asks the audit app to verify the whole chain: 202 with a new job, or 200 with the one already
   * pending or running. Poll `GET verifications/:id` until it is done.
   */
  @Post('verifications')
  async verify(
    @CurrentPrincipal() who: Principal,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Sendable<AuditVerificationJob>> {
    const { job, created } = await this.trail.requestVerification(who, requestMeta(req));
    reply.status(created ? 202 : 200);
    return job;
  }

  @Get('verifications')
  async verifications(): Promise<Sendable<{ data: AuditVerificationJob[] }>> {
    return { data: await this.trail.verifications() };
  }

  @Get('verifications/:id')
  verification(@Param('id', UuidParam) id: string): Promise<Sendable<AuditVerificationJob>> {
    return this.trail.verification(id);
  }

  @Post('exports')
  @HttpCode(202)
  createExport(
    @Body(new ZodBody(ExportBody)) body: ExportBody,
    @CurrentPrincipal() who: Principal,
    @Req() req: FastifyRequest,
  ): Promise<Sendable<AuditExport>> {
    return this.exports.request(
      {
        format: body.format,
        ...bounds(body.from, body.to),
        actorId: body.actor ?? null,
        action: body.action ?? null,
      },
      who,
      requestMeta(req),
    );
  }

  @Get('exports')
  async listExports(): Promise<Sendable<{ data: AuditExport[] }>> {
    return { data: await this.exports.list() };
  }

  @Get('exports/:id')
  getExport(@Param('id', UuidParam) id: string): Promise<Sendable<AuditExport>> {
    return this.exports.get(id);
  }

  /** `data` (the events), `manifest` (signed) and `links` (the other positions' links). */
  @Get('exports/:id/:file')
  download(
    @Param('id', UuidParam) id: string,
    @Param('file') file: string,
    @CurrentPrincipal() who: Principal,
    @Req() req: FastifyRequest,
  ): Promise<StreamableFile> {
    const which = ExportFile.safeParse(file);
    if (!which.success) {
      throw new ApiError(404, 'not_found', 'An export has the files data, manifest and links.');
    }
    return this.exports.download(id, which.data, who, requestMeta(req));
  }
}
