import type { FastifyInstance, FastifyRequest } from 'fastify';
import { loggableUrl } from './logging.js';
import type { Metrics } from './metrics.js';

/**
 * The route label of requests answered before routing matched anything (an unknown URL, a
 * malformed one). Never the raw URL, so scanners cannot grow the series.
 */
export const UNMATCHED_ROUTE = 'unmatched';

// Probes and scrapes come every few seconds; logging them would drown the rest.
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/** What the authentication guard leaves on the request (libs/auth), read for the log line. */
interface WithPrincipal {
  principal?: { userId?: string };
}

/**
 * Per request: echoes the request id, and when the response closes writes one compact log line
 * (method, URL without credentials, status, ms, request id, user when known) and times it into
 * enclave_http_request_duration_seconds under its route pattern. A response the client abandoned
 * counts as status 499.
 */
export function installRequestHooks(fastify: FastifyInstance, metrics: Metrics): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const started = performance.now();
    // On the Node response, so that streams written to `reply.raw` carry it too.
    reply.raw.setHeader('x-request-id', request.id);
    reply.raw.once('close', () => {
      const ms = performance.now() - started;
      const status = reply.raw.writableFinished ? reply.raw.statusCode : 499;
      const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
      metrics.request(request.method, route, status, ms / 1000);
      if (!PROBES.has(route)) logRequest(request, status, ms);
    });
    done();
  });
}

function logRequest(request: FastifyRequest, status: number, ms: number): void {
  const userId = (request as FastifyRequest & WithPrincipal).principal?.userId;
  const line = {
    reqId: request.id,
    method: request.method,
    url: loggableUrl(request.url),
    status,
    ms: Math.round(ms * 10) / 10,
    ...(userId ? { userId } : {}),
  };
  if (status >= 500) request.log.warn(line, 'request');
  else request.log.info(line, 'request');
}
