import { Module } from '@nestjs/common';
import { CountersRepository } from './counters.repository.js';
import { PolicyService } from './policy.service.js';
import { QuotasRepository } from './quotas.repository.js';
import { RuntimePoliciesService } from './runtime-policies.js';
import { UsageBuffer } from './usage-buffer.js';
import { UsageRepository } from './usage.repository.js';

@Module({
  providers: [
    QuotasRepository,
    CountersRepository,
    UsageRepository,
    UsageBuffer,
    PolicyService,
    RuntimePoliciesService,
  ],
  exports: [
    QuotasRepository,
    CountersRepository,
    UsageRepository,
    UsageBuffer,
    PolicyService,
    RuntimePoliciesService,
  ],
})
export class PolicyModule {}
