import { Logger, type OnModuleInit } from '@nestjs/common';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A single-page app built by Vite (`npm run build:web`) and served by one of the apps. */
export interface SpaOptions {
  /** What it is, for the log and the "not built" answer: 'chat web UI'. */
  name: string;
  /** Where the build writes it, relative to the checkout (or install) root. */
  buildDir: string;
  /** The URL path it lives under: '/' or '/admin' (Vite's `base` must match). */
  mount: string;
  /** Paths that belong to the APIs and probes: never answered with the page. */
  reserved?: string[];
}

/**
 * The built files, indexed once at start-up by their URL path below the mount. Only these exact
 * paths are ever served, so a request cannot reach any other file.
 */
export class SpaAssets implements OnModuleInit {
  private readonly log: Logger;
  private files = new Map<string, string>();
  readonly dir: string;

  constructor(readonly options: SpaOptions) {
    this.log = new Logger(`Spa(${options.name})`);
    this.dir = join(projectRoot(), options.buildDir);
  }

  onModuleInit(): void {
    this.files = existsSync(join(this.dir, 'index.html')) ? indexFiles(this.dir) : new Map();
    if (!this.files.size) {
      this.log.warn({ dir: this.dir }, `the ${this.options.name} is not built (npm run build:web)`);
    }
  }

  get built(): boolean {
    return this.files.has('/index.html');
  }

  /** The file for a path below the mount such as `/assets/index-3f2a.js`, or null. */
  file(path: string): string | null {
    return this.files.get(path) ?? null;
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
