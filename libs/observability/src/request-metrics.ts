import type { NextFunction, Request, Response } from 'express';
import type { Metrics } from './metrics.js';

/**
 * The route label of requests answered before routing (e.g. a body too large). Unknown URLs get
 * Nest's catch-all pattern. Never the raw URL, so scanners cannot grow the series.
 */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Express middleware timing every request into enclave_http_request_duration_seconds. The route
 * label is the matched route's pattern, read when the response closes (routing has happened by
 * then); a response the client abandoned counts as status 499.
 */
export function requestMetrics(metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = performance.now();
    res.once('close', () => {
      const path: unknown = req.route?.path;
      metrics.request(
        req.method,
        typeof path === 'string' ? path : UNMATCHED_ROUTE,
        res.writableFinished ? res.statusCode : 499,
        (performance.now() - started) / 1000,
      );
    });
    next();
  };
}
