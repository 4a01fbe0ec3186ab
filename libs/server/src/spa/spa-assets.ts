import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm run build:web` writes the chat UI, relative to the checkout (or install) root. */
export const WEB_BUILD_DIR = join('dist', 'apps', 'chat', 'web');

/**
 * The built chat UI: the files Vite wrote, indexed once at start-up by their URL path. Only these
 * exact paths are ever served, so a request cannot reach any other file.
 */
@Injectable()
export class WebAssets implements OnModuleInit {
  private readonly log = new Logger('WebAssets');
  private files = new Map<string, string>();
  readonly dir: string;

  constructor() {
    this.dir = join(projectRoot(), WEB_BUILD_DIR);
  }

  onModuleInit(): void {
    this.files = existsSync(join(this.dir, 'index.html')) ? indexFiles(this.dir) : new Map();
    if (!this.files.size) {
      this.log.warn({ dir: this.dir }, 'the chat UI is not built (npm run build:web)');
    }
  }

  get built(): boolean {
    return this.files.has('/index.html');
  }

  /** The file for a URL path such as `/assets/index-3f2a.js`, or null. */
  file(urlPath: string): string | null {
    return this.files.get(urlPath) ?? null;
  }

  get indexHtml(): string {
    return join(this.dir, 'index.html');
  }
}

/** URL path -> absolute file, for every file under dir. */
function indexFiles(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const abs = join(d, name);
      if (statSync(abs).isDirectory()) walk(abs);
      else files.set(`/${relative(dir, abs).split(sep).join('/')}`, abs);
    }
  };
  walk(dir);
  return files;
}

/** The nearest folder above this file with a package.json: the checkout, or the installed app. */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the project root (no package.json above)');
    dir = up;
  }
  return dir;
}
