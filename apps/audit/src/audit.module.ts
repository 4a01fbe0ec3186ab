import { type DynamicModule, Module } from '@nestjs/common';
import type { Config } from '@enclave/config';
import { RuntimePoliciesService } from '@enclave/policy';
import { PlatformModule } from '@enclave/server';
import { RetentionService } from './retention.service.js';
import { SealerReadiness } from './sealer-lag.js';
import { SealerService } from './sealer.service.js';
import { ExportRunnerService } from './export-runner.service.js';
import { SiemService } from './siem.service.js';
import { VerifyRunnerService } from './verify-runner.service.js';

/** The audit app: the audit sealer, SIEM forwarding, exports, verifications and retention. */
@Module({})
export class AuditAppModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: AuditAppModule,
      imports: [PlatformModule.forRoot(config, 'audit', [SealerReadiness])],
      // Only the runtime policies of libs/policy (its quota and usage jobs belong to the chat app).
      providers: [
        SealerService,
        SiemService,
        ExportRunnerService,
        VerifyRunnerService,
        RetentionService,
        RuntimePoliciesService,
      ],
    };
  }
}
