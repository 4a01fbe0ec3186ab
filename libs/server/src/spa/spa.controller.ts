import { Controller, Get, Next, Req, Res } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ApiError, Public } from '@enclave/http';
import { WebAssets } from './web-assets.js';

/** Paths that belong to the APIs and probes; the UI never answers them. */
const RESERVED = ['/v1', '/api', '/healthz', '/readyz', '/metrics'];

/** Vite names these after their content, so they may be cached for good. */
const HASHED = '/assets/';

function isReserved(path: string): boolean {
  return RESERVED.some((p) => path === p || path.startsWith(`${p}/`));
}

/**
 * A browser opening a page of the app (`/c/<id>`), not a script, an image or an API client:
 * those get a 404 for a path that does not exist, as everywhere else.
 */
function wantsPage(req: Request): boolean {
  return (req.get('accept') ?? '').includes('text/html') && !/\.\w+$/.test(req.path);
}

/**
 * The chat web UI at `/`: the built files, and index.html for any other page a browser opens
 * (the single-page app routes itself). The page is public; everything it calls needs a sign-in.
 * API and probe paths, and unknown paths that are not page loads, are handed on (`next()`): this
 * catch-all never shadows a route, and Nest answers what nobody serves with its 404.
 */
@Public()
@Controller()
export class WebController {
  constructor(private readonly assets: WebAssets) {}

  @Get('{*path}')
  serve(@Req() req: Request, @Res() res: Response, @Next() next: NextFunction): void {
    if (isReserved(req.path)) return next();
    if (!this.assets.built) {
      throw new ApiError(
        503,
        'web_ui_not_built',
        'The chat web UI is not built on this server; run `npm run build:web` and restart.',
        { type: 'server_error' },
      );
    }
    const file = this.assets.file(req.path === '/' ? '/index.html' : req.path);
    if (!file && !wantsPage(req)) return next();
    const hashed = file !== null && req.path.startsWith(HASHED);
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
