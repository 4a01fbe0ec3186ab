import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { type Config, ENCLAVE_CONFIG } from '@enclave/config';
import { withJournald } from './journald.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;
// Probes and scrapes come every few seconds; logging them would drown the rest.
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/** Keeps a caller's x-request-id when it is sane, otherwise makes one; echoes it on the response. */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('x-request-id', id);
  return id;
}

@Module({})
export class LoggingModule {
  /** pino JSON logs on stdout; every line logged while serving a request carries its reqId. */
  static forRoot(appName: string): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRootAsync({
          inject: [ENCLAVE_CONFIG],
          useFactory: (config: Config) => ({
            pinoHttp: withJournald({
              level: config.logLevel,
              base: { app: appName, pid: process.pid },
              genReqId: requestId,
              quietReqLogger: true,
              autoLogging: { ignore: (req: IncomingMessage) => PROBES.has(req.url ?? '') },
              redact: [
                'req.headers.authorization',
                'req.headers.cookie',
                'res.headers["set-cookie"]',
              ],
            }),
          }),
        }),
      ],
    };
  }
}
