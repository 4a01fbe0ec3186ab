import { Module } from '@nestjs/common';
import { GroupsRepository } from '@enclave/auth';
import { BudgetsRepository } from './teams/budgets.repository.js';
import { Entitlements } from './teams/entitlements.js';
import { ModelAccessRepository } from './teams/model-access.repository.js';
import { PricesRepository } from './teams/prices.repository.js';
import { UsageEventsRepository } from './teams/usage-events.repository.js';
import { CountersRepository } from './counters.repository.js';
import { PolicyService } from './policy.service.js';
import { QuotasRepository } from './quotas.repository.js';
import { RuntimePoliciesService } from './runtime-policies.js';
import { UsageBuffer } from './usage-buffer.js';
import { UsageRepository } from './usage.repository.js';

@Module({
  providers: [
    // Stateless; provided here too so the policy checks need not load the auth module.
    GroupsRepository,
    ModelAccessRepository,
    PricesRepository,
    BudgetsRepository,
    UsageEventsRepository,
    Entitlements,
    QuotasRepository,
    CountersRepository,
    UsageRepository,
    UsageBuffer,
    PolicyService,
    RuntimePoliciesService,
  ],
  exports: [
    ModelAccessRepository,
    PricesRepository,
    BudgetsRepository,
    UsageEventsRepository,
    Entitlements,
    QuotasRepository,
    CountersRepository,
    UsageRepository,
    UsageBuffer,
    PolicyService,
    RuntimePoliciesService,
  ],
})
export class PolicyModule {}
