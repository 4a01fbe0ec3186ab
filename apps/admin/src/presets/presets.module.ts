import { Module } from '@nestjs/common';
import { AuthModule } from '@enclave/auth';
import { ConversationsDataModule } from '@enclave/conversations';
import { AdminPresetsController } from './presets.controller.js';
import { AdminPresetsService } from './presets.service.js';

/** Presets and prompt templates published to every chat user. */
@Module({
  imports: [AuthModule, ConversationsDataModule],
  controllers: [AdminPresetsController],
  providers: [AdminPresetsService],
})
export class AdminPresetsModule {}
