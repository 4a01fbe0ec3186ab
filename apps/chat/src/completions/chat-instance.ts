import { Injectable } from '@nestjs/common';
import { type Config, InjectConfig } from '@enclave/config';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/** Names taken by chat apps in this process (tests run several in one). */
const taken = new Set<string>();

/**
 * This chat process as its records know it: a fresh id per start (stored with each message it
 * serves), and a name that stays the same across restarts (host and port), under which its
 * spool file lives and by which a restarted process finds what its predecessor left open.
 */
@Injectable()
export class ChatInstance {
  readonly id = randomUUID();
  readonly name: string;

  constructor(@InjectConfig() config: Config) {
    const base = `${hostname()}:${config.ports.chat}`;
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base}#${n}`;
    taken.add(name);
    this.name = name;
  }

  /** The name as a file name. */
  get fileName(): string {
    return `chat-${this.name.replace(/[^A-Za-z0-9.-]/g, '_')}`;
  }

  release(): void {
    taken.delete(this.name);
  }
}
