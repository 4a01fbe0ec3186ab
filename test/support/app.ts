import type { DynamicModule, INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Config } from '@enclave/config';
import { configureHttpApp } from '@enclave/server';
import { AdminAppModule } from '../../apps/admin/src/admin.module.js';
import { AuditAppModule } from '../../apps/audit/src/audit.module.js';
import { ChatAppModule } from '../../apps/chat/src/chat.module.js';

/** An app module started in-process with the production HTTP wiring (not listening on a port). */
export async function startApp(module: DynamicModule, config: Config): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [module] }).compile();
  const app = moduleRef.createNestApplication({ logger: false, bodyParser: false });
  configureHttpApp(app, config);
  await app.init();
  return app;
}

/** The three HTTP apps, for tests that hold for each of them. */
export const HTTP_APPS: [name: string, module: (config: Config) => DynamicModule][] = [
  ['chat', (c) => ChatAppModule.forRoot(c)],
  ['admin', (c) => AdminAppModule.forRoot(c)],
  ['audit', (c) => AuditAppModule.forRoot(c)],
];
