import { Controller, Get, Inject, Next, Req, Res, type Type } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ApiError, Public } from '@enclave/http';
import { SpaAssets } from './spa-assets.js';

/** Vite names these after their content, so they may be cached for good. */
const HASHED = '/assets/';

/**
 * A browser opening a page of the app (`/c/<id>`), not a script, an image or an API client:
 * those get a 404 for a path that does not exist, as everywhere else.
 */
function wantsPage(req: Request): boolean {
  return (req.get('accept') ?? '').includes('text/html') && !/\.\w+$/.test(req.path);
}

/**
 * The controller serving one single-page app under its mount: the built files, and index.html
 * for any other page a browser opens (the app routes itself). The page is public; everything it
 * calls needs a sign-in. Reserved paths, and unknown paths that are not page loads, are handed on
 * (`next()`): this catch-all never shadows a route, and Nest answers what nobody serves with its
 * 404. A class per app, because the mount is part of the route.
 */
export function spaController(mount: string): Type {
  const base = mount.replace(/\/+$/, '');

  @Public()
  @Controller(base)
  class SpaController {
    constructor(@Inject(SpaAssets) private readonly assets: SpaAssets) {}

    @Get(base ? ['', '{*path}'] : '{*path}')
    serve(@Req() req: Request, @Res() res: Response, @Next() next: NextFunction): void {
      const reserved = this.assets.options.reserved ?? [];
      if (reserved.some((p) => req.path === p || req.path.startsWith(`${p}/`))) return next();
      // `/admin` -> `/admin/`: the page's routes and assets all live below the slash.
      if (base && req.path === base) {
        const query = req.originalUrl.slice(req.path.length);
        return res.redirect(301, `${base}/${query}`);
      }
      if (!this.assets.built) {
        throw new ApiError(
          503,
          'web_ui_not_built',
          `The ${this.assets.options.name} is not built on this server; run \`npm run build:web\` and restart.`,
          { type: 'server_error' },
        );
      }
      const path = req.path.slice(base.length);
      const file = this.assets.file(path === '/' ? '/index.html' : path);
      if (!file && !wantsPage(req)) return next();
      const hashed = file !== null && path.startsWith(HASHED);
      res.sendFile(
        file ?? this.assets.indexHtml,
        {
          headers: {
            'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
          },
          cacheControl: false,
        },
        (err?: Error & { code?: string }) => {
          // The browser leaving mid-download is not an error of ours.
          if (err && !res.headersSent) next(err);
        },
      );
    }
  }
  return SpaController;
}
