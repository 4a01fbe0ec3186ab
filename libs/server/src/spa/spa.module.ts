import { Module } from '@nestjs/common';
import { WebAssets } from './web-assets.js';
import { WebController } from './web.controller.js';

/**
 * Serves the chat web UI (apps/chat/web, built by Vite into dist/apps/chat/web). Imported last
 * by the chat app, so its catch-all route comes after every API route.
 */
@Module({ controllers: [WebController], providers: [WebAssets] })
export class WebModule {}
