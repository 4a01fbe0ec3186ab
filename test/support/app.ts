import type { DynamicModule, INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Config } from '@enclave/config';
import { configureHttpApp } from '@enclave/server';

/** An app module started in-process with the production HTTP wiring (not listening on a port). */
export async function startApp(module: DynamicModule, config: Config): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [module] }).compile();
  const app = moduleRef.createNestApplication({ logger: false, bodyParser: false });
  configureHttpApp(app, config);
  await app.init();
  return app;
}
