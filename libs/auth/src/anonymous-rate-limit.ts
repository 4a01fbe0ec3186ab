import { Injectable } from '@nestjs/common';
import { type Config, InjectConfig } from '@enclave/config';
import { ApiError } from '@enclave/http';

/** More addresses than this at once: the fullest buckets are forgotten first. */
const MAX_TRACKED = 50_000;

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per client address for requests without valid credentials (public routes such
 * as sign-in, and refused ones): a full minute's worth at once, refilled evenly. Each process
 * keeps its own buckets; nginx's limit_req is the first line, this the one that holds without it.
 */
@Injectable()
export class AnonymousRateLimit {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMinute: number;

  constructor(@InjectConfig() config: Config) {
    this.perMinute = config.auth.anonymousRatePerMinute;
  }

  /** Takes one request from the address's bucket; 429 `rate_limited` when it is empty. */
  take(address: string | null, now = Date.now()): void {
    if (this.perMinute === 0) return;
    const key = address ?? 'unknown';
    const refillPerMs = this.perMinute / 60_000;
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * refillPerMs);
    bucket.at = now;
    if (bucket.tokens < 1) {
      const seconds = Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerMs / 1000));
      this.buckets.set(key, bucket);
      throw new ApiError(
        429,
        'rate_limited',
        `Too many requests without valid credentials from your address; try again in ${seconds} second${seconds === 1 ? '' : 's'}, or sign in.`,
        { headers: { 'retry-after': String(seconds) } },
      );
    }
    bucket.tokens -= 1;
    // Re-inserted so the Map's order is least recently used first.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > MAX_TRACKED) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
  }
}
