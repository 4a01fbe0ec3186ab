import { SetMetadata } from '@nestjs/common';

export const PUBLIC_ROUTE = 'enclave:public-route';

/**
 * Marks a route (or controller) that anyone may call without signing in. Everything else is
 * refused by the global authentication guard: deny by default.
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);
