import { type DynamicModule, Module } from '@nestjs/common';
import type { Config } from '@enclave/config';
import { PlatformModule } from '@enclave/server';
import { SealerService } from './sealer.service.js';
import { SiemService } from './siem.service.js';

/** The audit app: the audit sealer, SIEM forwarding, exports and retention. */
@Module({})
export class AuditAppModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: AuditAppModule,
      imports: [PlatformModule.forRoot(config, 'audit')],
      providers: [SealerService, SiemService],
    };
  }
}
