import { Injectable } from '@nestjs/common';

/** Something /readyz asks: null when ready, otherwise the reason it is not. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<string | null>;
}

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

/** Flipped on SIGTERM so load balancers stop sending new work while in-flight requests finish. */
@Injectable()
export class ReadinessState {
  private shuttingDown = false;

  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }
}
