import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { type Config, loadConfigOrExit } from '@enclave/config';
import { ReadinessState } from '@enclave/observability';

// nestjs-pino's Logger takes (object, message, context), like Nest's own.
const LOG_CONTEXT = 'Lifecycle';

/** The HTTP wiring every app gets, in production and in e2e tests alike. */
export function configureHttpApp(app: INestApplication): void {
  const express = app as NestExpressApplication;
  express.useLogger(app.get(Logger));
  express.use(helmet());
  // nginx on the same host forwards the client address; trust it only from loopback.
  express.set('trust proxy', 'loopback');
}

export interface HttpAppSpec {
  name: string;
  module(config: Config): DynamicModule;
  port(config: Config): number;
}

/** Entry point of an HTTP app: config (or a one-line error), listen, graceful SIGTERM. */
export async function runHttpApp(spec: HttpAppSpec): Promise<INestApplication> {
  const config = loadConfigOrExit();
  const app = await NestFactory.create<NestExpressApplication>(spec.module(config), {
    bufferLogs: true,
  });
  configureHttpApp(app);
  const port = spec.port(config);
  await app.listen(port, config.host);
  const log = app.get(Logger);
  log.log(
    { url: `http://${config.host}:${port}`, configFile: config.configFile },
    'listening',
    LOG_CONTEXT,
  );
  installGracefulShutdown(app, config.shutdownTimeoutMs);
  return app;
}

/**
 * On SIGTERM or SIGINT: report not-ready, stop accepting connections, let in-flight requests finish
 * for up to timeoutMs (then cut what is left), release the database, exit 0.
 */
export function installGracefulShutdown(app: INestApplication, timeoutMs: number): void {
  const log = app.get(Logger);
  let closing = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    log.log({ signal, timeoutMs }, 'shutting down: finishing in-flight requests', LOG_CONTEXT);
    app.get(ReadinessState).markShuttingDown();
    const server = app.getHttpServer() as import('node:http').Server;
    const force = setTimeout(() => {
      log.warn(
        { timeoutMs },
        'in-flight requests outlived the shutdown timeout; closing connections',
        LOG_CONTEXT,
      );
      server.closeAllConnections();
    }, timeoutMs);
    try {
      await app.close();
      log.log('shut down cleanly', LOG_CONTEXT);
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'shutdown failed', LOG_CONTEXT);
      process.exit(1);
    } finally {
      clearTimeout(force);
    }
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
