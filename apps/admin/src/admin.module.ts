import { type DynamicModule, Module } from '@nestjs/common';
import type { Config } from '@enclave/config';
import { PlatformModule } from '@enclave/server';

/** The admin app: the admin API and console. */
@Module({})
export class AdminAppModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: AdminAppModule,
      imports: [PlatformModule.forRoot(config, 'admin')],
    };
  }
}
