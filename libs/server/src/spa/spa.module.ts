import { type DynamicModule, Module } from '@nestjs/common';
import { SpaAssets, type SpaOptions } from './spa-assets.js';
import { rootRedirectController, spaController } from './spa.controller.js';

/**
 * Serves a single-page app built by Vite: the chat UI at `/`, the admin console at `/admin`
 * (and `/` redirects there).
 * Import it last, so its catch-all page route comes after every API route.
 */
@Module({})
export class SpaModule {
  static forRoot(options: SpaOptions): DynamicModule {
    return {
      module: SpaModule,
      controllers: [
        spaController(options.mount),
        ...(options.mount.replace(/\/+$/, '') ? [rootRedirectController(options.mount)] : []),
      ],
      providers: [{ provide: SpaAssets, useFactory: () => new SpaAssets(options) }],
    };
  }
}
