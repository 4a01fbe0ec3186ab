import { Module } from '@nestjs/common';
import { PolicyModule } from '@enclave/policy';
import { QuotasController } from './quotas.controller.js';
import { QuotasService } from './quotas.service.js';

@Module({ imports: [PolicyModule], controllers: [QuotasController], providers: [QuotasService] })
export class QuotasModule {}
