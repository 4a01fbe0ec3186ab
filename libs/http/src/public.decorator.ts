import { applyDecorators, SetMetadata } from '@nestjs/common';

export const PUBLIC_ROUTE = 'enclave:public-route';
export const PROBE_ROUTE = 'enclave:probe-route';

/**
 * Marks a route (or controller) that anyone may call without signing in. Everything else is
 * refused by the global authentication guard: deny by default.
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);

/**
 * A public liveness/readiness probe: load balancers, nginx and systemd call it often, from one
 * address and without credentials, and it does no work worth limiting, so it is not counted
 * against the per-address budget for anonymous traffic (a 429 would look like an outage).
 */
export const Probe = (): MethodDecorator & ClassDecorator =>
  applyDecorators(Public(), SetMetadata(PROBE_ROUTE, true));
