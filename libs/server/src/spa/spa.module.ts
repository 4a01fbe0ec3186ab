import { type DynamicModule, Module } from '@nestjs/common';
import { SpaAssets, type SpaOptions } from './spa-assets.js';
import { spaController } from './spa.controller.js';

/**
 * Serves a single-page app built by Vite: the chat UI at `/`, the admin console at `/admin`.
 * Import it last, so its catch-all page route comes after every API route.
 */
@Module({})
export class SpaModule {
  static forRoot(options: SpaOptions): DynamicModule {
    return {
      module: SpaModule,
      controllers: [spaController(options.mount)],
      providers: [{ provide: SpaAssets, useFactory: () => new SpaAssets(options) }],
    };
  }
}
