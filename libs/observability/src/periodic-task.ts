import type { LoggerService } from '@nestjs/common';

export interface PeriodicTaskOptions {
  /** Named in the log line when a run fails. */
  name: string;
  everyMs: number;
  log: Pick<LoggerService, 'error'>;
}

/**
 * Background work repeated on a timer (flushes, clean-ups, health checks, job polling): a run
 * still going when the next tick comes makes that tick a no-op, so runs never overlap; a failed
 * run is logged with `{ err }` and the next tick tries again; `stop()` waits for the run in
 * progress. The timer does not keep the process alive.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly task: () => unknown,
    private readonly opts: PeriodicTaskOptions,
  ) {}

  start(): this {
    this.timer ??= setInterval(() => void this.runNow(), this.opts.everyMs).unref();
    return this;
  }

  /** Runs the task unless a run is in progress (then waits for that one). */
  runNow(): Promise<void> {
    this.running ??= this.runOnce().finally(() => (this.running = null));
    return this.running;
  }

  private async runOnce(): Promise<void> {
    try {
      await this.task();
    } catch (err) {
      this.opts.log.error({ err }, `${this.opts.name} failed`);
    }
  }

  /** Stops the timer; resolves once a run in progress has ended. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
