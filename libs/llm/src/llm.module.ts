import { Module } from '@nestjs/common';
import { BackendsRepository } from './backends.repository.js';
import { ResponseCache } from './response-cache.js';
import { UpstreamPool } from './upstream-pool.js';

@Module({
  providers: [BackendsRepository, UpstreamPool, ResponseCache],
  exports: [BackendsRepository, UpstreamPool, ResponseCache],
})
export class LlmModule {}
