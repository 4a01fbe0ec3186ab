import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { type DynamicModule, type INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyCookie from '@fastify/cookie';
import { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import { type Config, loadConfigOrExit } from '@enclave/config';
import { useJsonBodies } from '@enclave/http';
import {
  createLogger,
  installRequestHooks,
  Metrics,
  NestLogger,
  READINESS_CHECKS,
  type ReadinessCheck,
  ReadinessState,
  requestId,
} from '@enclave/observability';
import { SystemdNotifier } from './systemd-notify.js';

/** After the shutdown timeout has cut connections, how long cleanup may take before a hard exit. */
const HARD_EXIT_GRACE_MS = 5_000;

/**
 * The Fastify instance an app runs on: its pino logger (stdout unless `log` is given), request
 * ids, the body size limit, and `X-Forwarded-*` trusted from loopback only (nginx on the host).
 */
export function createHttpAdapter(
  appName: string,
  config: Config,
  log?: DestinationStream,
): FastifyAdapter {
  return new FastifyAdapter({
    loggerInstance: createLogger(appName, config.logLevel, log),
    // installRequestHooks writes one compact line per request instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // That line carries the request id itself: no child logger per request.
    childLoggerFactory: (logger: FastifyBaseLogger) => logger,
    genReqId: requestId,
    requestIdHeader: false,
    bodyLimit: config.http.maxBodyBytes,
    trustProxy: 'loopback',
    // No Nest middleware anywhere (cross-cutting work is in hooks, guards and filters), so no
    // middleware runner on every request.
    skipMiddie: true,
  });
}

/** The HTTP wiring every app gets on its Fastify adapter, in production and in e2e tests alike. */
export function configureHttpApp(app: INestApplication, _config: Config): void {
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  app.useLogger(new NestLogger(fastify.log as PinoLogger));
  // helmet 8's headers and defaults (CSP without inline script included), set by Nest itself.
  app.useSecurityHeaders();
  installRequestHooks(fastify, app.get(Metrics));
  useJsonBodies(fastify);
  void fastify.register(fastifyCookie);
}

export interface HttpAppSpec {
  name: string;
  module(config: Config): DynamicModule;
  port(config: Config): number;
}

/** Entry point of an HTTP app: config (or a one-line error), listen, graceful SIGTERM. */
export async function runHttpApp(spec: HttpAppSpec): Promise<INestApplication> {
  const config = loadConfigOrExit();
  const app = await NestFactory.create<NestFastifyApplication>(
    spec.module(config),
    createHttpAdapter(spec.name, config),
    { bufferLogs: true, bodyParser: false },
  );
  configureHttpApp(app, config);
  const port = spec.port(config);
  await app.listen(port, config.host);
  new Logger('Lifecycle').log(
    { url: `http://${config.host}:${port}`, configFile: config.configFile },
    'listening',
  );
  // Under systemd (Type=notify): ready once listening, whatever the database's state (that is
  // /readyz's business); then the watchdog, with the readiness checks as the unit's status.
  const notifier = SystemdNotifier.fromEnv();
  installGracefulShutdown(app, config.shutdownTimeoutMs, notifier);
  if (notifier) {
    const checks = app.get<ReadinessCheck[]>(READINESS_CHECKS, { strict: false });
    await notifier.ready(`listening on ${config.host}:${port}`);
    notifier.startWatchdog(() => readinessStatus(checks));
  }
  return app;
}

/** 'ready', or each failing readiness check with its reason. */
async function readinessStatus(checks: ReadinessCheck[]): Promise<string> {
  const results = await Promise.all(checks.map(async (c) => [c.name, await c.check()] as const));
  const failing = results.filter(([, reason]) => reason !== null);
  return failing.length
    ? `not ready: ${failing.map(([name, reason]) => `${name} ${reason}`).join('; ')}`
    : 'ready';
}

/**
 * On SIGTERM or SIGINT: report not-ready, stop accepting connections, let in-flight requests finish
 * for up to timeoutMs (then cut what is left), release the database, exit 0.
 */
export function installGracefulShutdown(
  app: INestApplication,
  timeoutMs: number,
  notifier: SystemdNotifier | null = null,
): void {
  const log = new Logger('Lifecycle');
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
    log.log({ signal, timeoutMs }, 'shutting down: finishing in-flight requests');
    void notifier?.stopping();
    app.get(ReadinessState).markShuttingDown();
    setTimeout(() => {
      log.warn(
        { timeoutMs },
        'in-flight requests outlived the shutdown timeout; closing connections',
      );
      server.closeAllConnections();
    }, timeoutMs);
    // Whatever still hangs (a query that never answers) must not keep the process alive.
    const deadline = setTimeout(() => {
      log.error({ timeoutMs }, 'shutdown did not complete; exiting anyway');
      process.exit(1);
    }, timeoutMs + HARD_EXIT_GRACE_MS);
    deadline.unref();
    let code = 0;
    try {
      await app.close();
      log.log('shut down cleanly');
    } catch (err) {
      log.error({ err }, 'shutdown failed');
      code = 1;
    }
    process.exit(code);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
