import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AuditModule } from '@enclave/audit';
import { AuthModule } from '@enclave/auth';
import { ApiErrorFilter, REJECTION_RECORDER } from '@enclave/http';
import { type Config, ConfigModule } from '@enclave/config';
import { DatabaseReadiness, DbModule } from '@enclave/db';
import { HealthModule, MetricsModule, type ReadinessCheck } from '@enclave/observability';
import { AuditRejections } from './audit-rejections.js';

/**
 * What every Enclave HTTP app stands on: config, the database, health and readiness,
 * Prometheus metrics, the audit log, authentication (deny by default) and errors in one shape.
 */
@Module({})
export class PlatformModule {
  /** `readiness`: the app's own /readyz checks, besides the database. */
  static forRoot(
    config: Config,
    appName: string,
    readiness: Type<ReadinessCheck>[] = [],
  ): DynamicModule {
    return {
      module: PlatformModule,
      imports: [
        ConfigModule.forRoot(config),
        DbModule.forRoot(appName),
        HealthModule.forRoot([DatabaseReadiness, ...readiness]),
        MetricsModule.forRoot(appName),
        AuditModule,
        AuthModule,
      ],
      providers: [
        { provide: REJECTION_RECORDER, useClass: AuditRejections },
        { provide: APP_FILTER, useClass: ApiErrorFilter },
      ],
      exports: [DbModule, HealthModule, AuthModule],
    };
  }
}
