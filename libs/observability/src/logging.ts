import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { LoggerService } from '@nestjs/common';
import { type DestinationStream, type Level, type Logger, pino } from 'pino';
import { journaldDestination } from './journald.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Keeps a caller's x-request-id when it is sane, otherwise makes one (Fastify's `genReqId`). */
export function requestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * An API key (`ek_<prefix>_<secret>`) or anything else that starts like one. The 8-hex prefix
 * names a key in the admin UI and the audit trail and is kept; whatever follows it is not.
 */
const API_KEY = /ek_([0-9a-f]{8})?([\w-]*)/g;

/** Masks every API key in a log line, wherever it sits (a URL, an error message, a header). */
export function redactSecrets(line: string): string {
  if (!line.includes('ek_')) return line;
  return line.replace(API_KEY, (whole, prefix: string | undefined, rest: string) => {
    if (!rest) return whole;
    return prefix && rest.startsWith('_') ? `ek_${prefix}_[REDACTED]` : 'ek_[REDACTED]';
  });
}

/** Query parameters that carry a credential; their values never reach a log line. */
const SECRET_QUERY = /([?&](?:api[_-]?key|key|token|access_token|code|state)=)[^&#]*/gi;

/** The URL as logged: path and query, credential values masked. */
export function loggableUrl(url: string): string {
  return url.includes('?') ? url.replace(SECRET_QUERY, '$1[REDACTED]') : url;
}

/** Header paths masked wherever an object logged carries request or response headers. */
const SECRET_HEADERS = ['authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-csrf-token'];
const REDACT_PATHS = ['req.headers', 'res.headers', 'headers', '*.headers'].flatMap((at) =>
  SECRET_HEADERS.map((h) => `${at}["${h}"]`),
);

/** stdout; under systemd (JOURNAL_STREAM set) each line carries its syslog priority for journald. */
function stdoutDestination(): DestinationStream {
  const stdout = pino.destination(1);
  return process.env.JOURNAL_STREAM ? journaldDestination(stdout) : stdout;
}

/**
 * The app's pino logger: JSON lines on stdout (or the given stream), each with app and pid.
 * Fastify uses it for its request loggers; Nest's `Logger` writes to it through `NestLogger`.
 */
export function createLogger(
  app: string,
  level: Level | 'silent',
  destination: DestinationStream = stdoutDestination(),
): Logger {
  return pino(
    {
      level,
      base: { app, pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      hooks: { streamWrite: redactSecrets },
    },
    destination,
  );
}

type NestLevel = 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
const PINO_LEVEL: Record<NestLevel, Level> = {
  log: 'info',
  error: 'error',
  warn: 'warn',
  debug: 'debug',
  verbose: 'trace',
  fatal: 'fatal',
};

/**
 * Nest's `Logger` on the app's pino logger. Called as `log.warn({ err }, 'message')` (an object
 * and a message) or `log.log('message')`; a `Logger` made with a context appends it last.
 */
export class NestLogger implements LoggerService {
  constructor(private readonly pino: Logger) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(level: NestLevel, message: unknown, rest: unknown[]): void {
    const log = this.pino[PINO_LEVEL[level]].bind(this.pino);
    if (!this.pino.isLevelEnabled(PINO_LEVEL[level])) return;
    const isObject = typeof message === 'object' && message !== null;
    // (object, message, context) or (message, context); Nest's own errors: (message, stack, context).
    const context =
      rest.length > (isObject ? 1 : 0) && typeof rest.at(-1) === 'string'
        ? (rest.pop() as string)
        : undefined;
    if (message instanceof Error) {
      log({ context, err: message }, message.message);
    } else if (isObject) {
      const msg = typeof rest[0] === 'string' ? rest[0] : undefined;
      log({ context, ...(message as object) }, msg);
    } else {
      const stack = typeof rest[0] === 'string' ? rest[0] : undefined;
      log({ context, ...(stack ? { stack } : {}) }, String(message));
    }
  }
}
