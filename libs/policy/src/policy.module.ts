import { Module } from '@nestjs/common';
import { CountersRepository } from './counters.repository.js';
import { PolicyService } from './policy.service.js';
import { QuotasRepository } from './quotas.repository.js';
import { UsageRepository } from './usage.repository.js';

@Module({
  providers: [QuotasRepository, CountersRepository, UsageRepository, PolicyService],
  exports: [QuotasRepository, UsageRepository, PolicyService],
})
export class PolicyModule {}
