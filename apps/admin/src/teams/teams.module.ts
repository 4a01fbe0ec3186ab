import { Module } from '@nestjs/common';
import { AuthModule } from '@enclave/auth';
import { LlmModule } from '@enclave/llm';
import { PolicyModule } from '@enclave/policy';
import { BudgetsController } from './budgets.controller.js';
import { BudgetsService } from './budgets.service.js';
import { GroupRemovalService } from './group-removal.service.js';
import { GroupsController } from './groups.controller.js';
import { ModelEntitlementsController } from './model-entitlements.controller.js';
import { ModelEntitlementsService } from './model-entitlements.service.js';
import { UsageReportsController } from './usage-reports.controller.js';
import { UsageReportsService } from './usage-reports.service.js';

/** Teams: groups, model access by group, prices, budgets and usage reports (issue 20). */
@Module({
  imports: [AuthModule, PolicyModule, LlmModule],
  controllers: [
    GroupsController,
    ModelEntitlementsController,
    BudgetsController,
    UsageReportsController,
  ],
  providers: [ModelEntitlementsService, BudgetsService, UsageReportsService, GroupRemovalService],
})
export class TeamsModule {}
