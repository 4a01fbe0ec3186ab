import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  Injectable,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Config, InjectConfig } from '@enclave/config';
import { ApiError, Public } from '@enclave/http';
import { Metrics } from './metrics.js';

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/** 127.0.0.0/8, ::1, and 127.x written as an IPv4-mapped IPv6 address. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return address === '::1';
}

/**
 * Who may scrape: with ENCLAVE_METRICS_TOKEN set, whoever sends it as a bearer token; without
 * it, only loopback callers. The client address is Fastify's `request.ip`, which (trust proxy
 * loopback) is the address nginx forwards, so a scrape relayed by nginx from elsewhere is
 * refused too.
 */
@Injectable()
export class MetricsAccess implements CanActivate {
  private readonly tokenHash: Buffer | null;

  constructor(@InjectConfig() config: Config) {
    this.tokenHash = config.metrics.token === null ? null : sha256(config.metrics.token);
  }

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    if (this.tokenHash) {
      const sent = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
      // Hashes have one length, so the comparison takes the same time whatever was sent.
      if (sent !== undefined && timingSafeEqual(sha256(sent), this.tokenHash)) return true;
      throw new ApiError(
        401,
        'metrics_token_required',
        "Scraping /metrics needs 'Authorization: Bearer <ENCLAVE_METRICS_TOKEN>'.",
        { headers: { 'www-authenticate': 'Bearer realm="metrics"' } },
      );
    }
    if (isLoopback(req.ip)) return true;
    throw new ApiError(
      403,
      'metrics_loopback_only',
      '/metrics answers only loopback callers while ENCLAVE_METRICS_TOKEN is unset; set it to scrape from elsewhere.',
    );
  }
}

/** Prometheus scrape endpoint. Public to the sign-in guard: MetricsAccess is its own check. */
@Public()
@Controller()
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get('metrics')
  @UseGuards(MetricsAccess)
  async scrape(@Res() reply: FastifyReply): Promise<void> {
    const text = await this.metrics.render();
    void reply
      .status(200)
      .headers({ 'content-type': this.metrics.contentType, 'cache-control': 'no-store' })
      .send(text);
  }
}
