import { type DynamicModule, Global, Inject, Module } from '@nestjs/common';
import type { Config } from './load.js';

export const ENCLAVE_CONFIG = Symbol('ENCLAVE_CONFIG');

/** Injects the validated Config: `constructor(@InjectConfig() config: Config)`. */
export const InjectConfig = (): ParameterDecorator => Inject(ENCLAVE_CONFIG);

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: ENCLAVE_CONFIG, useValue: config }],
      exports: [ENCLAVE_CONFIG],
    };
  }
}
