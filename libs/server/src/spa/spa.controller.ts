import { Controller, Get, Inject, NotFoundException, Req, Res, type Type } from '@nestjs/common';
import send from '@fastify/send';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, Public } from '@enclave/http';
import { SpaAssets } from './spa-assets.js';

/** Vite names these after their content, so they may be cached for good. */
const HASHED = '/assets/';
const A_YEAR_MS = 365 * 24 * 3600 * 1000;

/**
 * A browser opening a page of the app (`/c/<id>`), not a script, an image or an API client:
 * those get a 404 for a path that does not exist, as everywhere else.
 */
function wantsPage(req: FastifyRequest, path: string): boolean {
  return (req.headers.accept ?? '').includes('text/html') && !/\.\w+$/.test(path);
}

/**
 * The controller serving one single-page app under its mount: the built files (sent by
 * @fastify/send: ranges, conditional requests, content types), and index.html for any other page a browser opens (the app routes itself).
 * The page is public; everything it calls needs a sign-in. Reserved paths, and unknown paths that
 * are not page loads, get the usual 404: the router prefers every other route over this
 * catch-all, so it never shadows one. A class per app, because the mount is part of the route.
 */
/**
 * `/` of an app whose page lives below a mount (the admin app's `/admin/`): a person who types
 * the bare host and port lands on the page, not on a JSON 404.
 */
export function rootRedirectController(mount: string): Type {
  const target = `${mount.replace(/\/+$/, '')}/`;

  @Public()
  @Controller()
  class RootRedirectController {
    @Get()
    redirect(@Res() reply: FastifyReply): void {
      void reply.redirect(target, 302);
    }
  }
  return RootRedirectController;
}

export function spaController(mount: string): Type {
  const base = mount.replace(/\/+$/, '');

  @Public()
  @Controller(base)
  class SpaController {
    constructor(@Inject(SpaAssets) private readonly assets: SpaAssets) {}

    @Get(base ? ['', '*'] : '*')
    async serve(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
      const urlPath = req.url.split('?', 1)[0]!;
      const reserved = this.assets.options.reserved ?? [];
      if (reserved.some((p) => urlPath === p || urlPath.startsWith(`${p}/`))) {
        throw new NotFoundException();
      }
      // `/admin` -> `/admin/`: the page's routes and assets all live below the slash.
      if (base && urlPath === base) {
        void reply.redirect(`${base}/${req.url.slice(urlPath.length)}`, 301);
        return;
      }
      if (!this.assets.built) {
        throw new ApiError(
          503,
          'web_ui_not_built',
          `The ${this.assets.options.name} is not built on this server; run \`npm run build:web\` and restart.`,
          { type: 'server_error' },
        );
      }
      const path = urlPath.slice(base.length);
      const file = path === '/' ? '/index.html' : path;
      const exists = this.assets.file(file) !== null;
      if (!exists && !wantsPage(req, path)) throw new NotFoundException();
      // Only the files indexed at start-up are sent, by their path below the build folder.
      const hashed = exists && path.startsWith(HASHED);
      const sent = await send(req.raw, exists ? file : '/index.html', {
        root: this.assets.dir,
        ...(hashed
          ? { cacheControl: true, maxAge: A_YEAR_MS, immutable: true }
          : { cacheControl: false }),
      });
      if (sent.type === 'error') throw new NotFoundException();
      void reply.status(sent.statusCode).headers(sent.headers);
      if (!hashed) void reply.header('cache-control', 'no-cache');
      await reply.send(sent.stream);
    }
  }
  return SpaController;
}
