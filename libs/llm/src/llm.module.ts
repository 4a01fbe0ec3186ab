import { Module } from '@nestjs/common';
import { PolicyModule } from '@enclave/policy';
import { BackendsRepository } from './backends.repository.js';
import { ResponseCache } from './response-cache.js';
import { UpstreamPool } from './upstream-pool.js';

@Module({
  imports: [PolicyModule],
  providers: [BackendsRepository, UpstreamPool, ResponseCache],
  exports: [BackendsRepository, UpstreamPool, ResponseCache],
})
export class LlmModule {}
