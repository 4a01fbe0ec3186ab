import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import cookieParser from 'cookie-parser';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { type Config, loadConfigOrExit } from '@enclave/config';
import { Metrics, ReadinessState, requestMetrics } from '@enclave/observability';

// nestjs-pino's Logger takes (object, message, context), like Nest's own.
const LOG_CONTEXT = 'Lifecycle';
/** After the shutdown timeout has cut connections, how long cleanup may take before a hard exit. */
const HARD_EXIT_GRACE_MS = 5_000;

/** The HTTP wiring every app gets, in production and in e2e tests alike. */
export function configureHttpApp(app: INestApplication, config: Config): void {
  const express = app as NestExpressApplication;
  express.useLogger(app.get(Logger));
  // First, so the duration covers everything after it (helmet, body parsing, guards).
  express.use(requestMetrics(app.get(Metrics)));
  express.use(helmet());
  express.use(cookieParser());
  express.useBodyParser('json', { limit: config.http.maxBodyBytes });
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
    bodyParser: false,
  });
  configureHttpApp(app, config);
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
  const server = app.getHttpServer() as Server;
  let closing = false;
  // server.close() waits for keep-alive sockets to time out; while closing, end each socket as
  // soon as its response is done instead.
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (closing) res.setHeader('connection', 'close');
    res.once('finish', () => closing && setImmediate(() => server.closeIdleConnections()));
  });
  const shutdown = async (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    log.log({ signal, timeoutMs }, 'shutting down: finishing in-flight requests', LOG_CONTEXT);
    app.get(ReadinessState).markShuttingDown();
    setTimeout(() => {
      log.warn(
        { timeoutMs },
        'in-flight requests outlived the shutdown timeout; closing connections',
        LOG_CONTEXT,
      );
      server.closeAllConnections();
    }, timeoutMs);
    // Whatever still hangs (a query that never answers) must not keep the process alive.
    const deadline = setTimeout(() => {
      log.error({ timeoutMs }, 'shutdown did not complete; exiting anyway', LOG_CONTEXT);
      process.exit(1);
    }, timeoutMs + HARD_EXIT_GRACE_MS);
    deadline.unref();
    let code = 0;
    try {
      await app.close();
      log.log('shut down cleanly', LOG_CONTEXT);
    } catch (err) {
      log.error({ err }, 'shutdown failed', LOG_CONTEXT);
      code = 1;
    }
    process.exit(code);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
