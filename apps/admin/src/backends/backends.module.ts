import { Module } from '@nestjs/common';
import { LlmModule } from '@enclave/llm';
import { BackendsController } from './backends.controller.js';
import { BackendsService } from './backends.service.js';

@Module({ imports: [LlmModule], controllers: [BackendsController], providers: [BackendsService] })
export class BackendsModule {}
