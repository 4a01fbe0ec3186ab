import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { HealthController } from './health.controller.js';
import { READINESS_CHECKS, type ReadinessCheck, ReadinessState } from './readiness.js';

@Module({})
export class HealthModule {
  /** `/healthz` and `/readyz`, the latter asking each of `checks`. */
  static forRoot(checks: Type<ReadinessCheck>[]): DynamicModule {
    return {
      module: HealthModule,
      controllers: [HealthController],
      providers: [
        ...checks,
        ReadinessState,
        {
          provide: READINESS_CHECKS,
          inject: checks,
          useFactory: (...instances: ReadinessCheck[]) => instances,
        },
      ],
      exports: [ReadinessState],
    };
  }
}
