import { Module } from '@nestjs/common';
import { CountersRepository } from './counters.repository.js';
import { PolicyService } from './policy.service.js';
import { QuotasRepository } from './quotas.repository.js';
import { UsageBuffer } from './usage-buffer.js';
import { UsageRepository } from './usage.repository.js';

@Module({
  providers: [QuotasRepository, CountersRepository, UsageRepository, UsageBuffer, PolicyService],
  exports: [QuotasRepository, UsageRepository, UsageBuffer, PolicyService],
})
export class PolicyModule {}
