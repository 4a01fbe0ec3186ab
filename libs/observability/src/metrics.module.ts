import { type DynamicModule, Global, Module } from '@nestjs/common';
import { Metrics, METRICS_APP_NAME } from './metrics.js';
import { MetricsAccess, MetricsController } from './metrics.controller.js';

/** `GET /metrics` and the app's `Metrics`, injectable everywhere (libs record into it). */
@Global()
@Module({})
export class MetricsModule {
  static forRoot(appName: string): DynamicModule {
    return {
      module: MetricsModule,
      controllers: [MetricsController],
      providers: [{ provide: METRICS_APP_NAME, useValue: appName }, Metrics, MetricsAccess],
      exports: [Metrics],
    };
  }
}
