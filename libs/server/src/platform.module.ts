import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AuditModule } from '@enclave/audit';
import { AuthModule } from '@enclave/auth';
import { ApiErrorFilter, REJECTION_RECORDER } from '@enclave/http';
import { type Config, ConfigModule } from '@enclave/config';
import { DatabaseReadiness, DbModule } from '@enclave/db';
import { HealthModule, MetricsModule } from '@enclave/observability';
import { AuditRejections } from './audit-rejections.js';

/**
 * What every Enclave HTTP app stands on: config, the database, health and readiness,
 * Prometheus metrics, the audit log, authentication (deny by default) and errors in one shape.
 */
@Module({})
export class PlatformModule {
  static forRoot(config: Config, appName: string): DynamicModule {
    return {
      module: PlatformModule,
      imports: [
        ConfigModule.forRoot(config),
        DbModule.forRoot(appName),
        HealthModule.forRoot([DatabaseReadiness]),
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
