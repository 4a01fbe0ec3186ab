import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { type Config, ENCLAVE_CONFIG } from '@enclave/config';
import { ConfigEvents } from './config-events.js';
import { dataSourceOptions } from './data-source.js';
import { MigrateOnStart } from './migrate-on-start.js';
import { SettingsRepository } from './settings.repository.js';

@Module({})
export class DbModule {
  /** The app's DataSource (entities registered with TypeOrmModule.forFeature are added). */
  static forRoot(appName: string): DynamicModule {
    return {
      module: DbModule,
      global: true,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [ENCLAVE_CONFIG],
          useFactory: (config: Config) => ({
            ...dataSourceOptions(config, appName),
            autoLoadEntities: true,
            retryAttempts: 5,
            retryDelay: 2_000,
          }),
        }),
      ],
      providers: [MigrateOnStart, SettingsRepository, ConfigEvents],
      exports: [SettingsRepository, ConfigEvents],
    };
  }
}
