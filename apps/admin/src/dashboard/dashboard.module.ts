import { Module } from '@nestjs/common';
import { LlmModule } from '@enclave/llm';
import { PolicyModule } from '@enclave/policy';
import { DashboardController } from './dashboard.controller.js';
import { DashboardRepository } from './dashboard.repository.js';

/** The console's live dashboard: traffic, backends, replication. */
@Module({
  imports: [PolicyModule, LlmModule],
  controllers: [DashboardController],
  providers: [DashboardRepository],
})
export class DashboardModule {}
