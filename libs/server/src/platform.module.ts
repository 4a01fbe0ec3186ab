import { type DynamicModule, Module } from '@nestjs/common';
import { type Config, ConfigModule } from '@enclave/config';
import { DatabaseReadiness, DbModule } from '@enclave/db';
import { HealthModule, LoggingModule } from '@enclave/observability';

/** What every Enclave HTTP app stands on: config, logs, the database, health and readiness. */
@Module({})
export class PlatformModule {
  static forRoot(config: Config, appName: string): DynamicModule {
    return {
      module: PlatformModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(appName),
        DbModule.forRoot(appName),
        HealthModule.forRoot([DatabaseReadiness]),
      ],
      exports: [DbModule, HealthModule],
    };
  }
}
