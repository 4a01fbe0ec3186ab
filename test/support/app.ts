import type { DynamicModule, INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import type { Config } from '@enclave/config';
import { configureHttpApp, createHttpAdapter } from '@enclave/server';
import { AdminAppModule } from '../../apps/admin/src/admin.module.js';
import { AuditAppModule } from '../../apps/audit/src/audit.module.js';
import { ChatAppModule } from '../../apps/chat/src/chat.module.js';

/**
 * An app module started in-process with the production HTTP wiring (not listening on a port).
 * Its log lines go to `log` when given (at the config's LOG_LEVEL; tests default to silent).
 */
export async function startApp(
  module: DynamicModule,
  config: Config,
  options: { name?: string; log?: DestinationStream } = {},
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [module] }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(
    createHttpAdapter(options.name ?? 'test', config, options.log),
    // A test ends its app at once: connections a client opened and never used (undici may open
    // one after an aborted stream) would otherwise hold close() until the headers timeout.
    { logger: false, bodyParser: false, forceCloseConnections: true },
  );
  configureHttpApp(app, config);
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  const routes: ServedRoute[] = [];
  fastify.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url });
  });
  servedRoutes.set(app, routes);
  await app.init();
  // Fastify loads its plugins (cookies, static files) and routes here; supertest needs them.
  await fastify.ready();
  return app;
}

export interface ServedRoute {
  method: string;
  url: string;
}
const servedRoutes = new WeakMap<INestApplication, ServedRoute[]>();

/** Every route an app started by startApp serves (Fastify's own HEAD twins of GETs included). */
export function routesOf(app: INestApplication): ServedRoute[] {
  return servedRoutes.get(app) ?? [];
}

/** The three HTTP apps, for tests that hold for each of them. */
export const HTTP_APPS: [name: string, module: (config: Config) => DynamicModule][] = [
  ['chat', (c) => ChatAppModule.forRoot(c)],
  ['admin', (c) => AdminAppModule.forRoot(c)],
  ['audit', (c) => AuditAppModule.forRoot(c)],
];
