import { Module } from '@nestjs/common';
import { ConversationsDataModule } from '@enclave/conversations';
import { PresetsController } from './presets.controller.js';
import { PresetsService } from './presets.service.js';

/** The user's presets and prompt templates (the data is libs/conversations'). */
@Module({
  imports: [ConversationsDataModule],
  controllers: [PresetsController],
  providers: [PresetsService],
})
export class PresetsModule {}
