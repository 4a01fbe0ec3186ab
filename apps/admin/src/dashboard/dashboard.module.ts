import { Module } from '@nestjs/common';
import { ConversationsDataModule } from '@enclave/conversations';
import { LlmModule } from '@enclave/llm';
import { DashboardController } from './dashboard.controller.js';
import { DashboardRepository } from './dashboard.repository.js';

/** The console's live dashboard: traffic, backends, replication. */
@Module({
  imports: [ConversationsDataModule, LlmModule],
  controllers: [DashboardController],
  providers: [DashboardRepository],
})
export class DashboardModule {}
