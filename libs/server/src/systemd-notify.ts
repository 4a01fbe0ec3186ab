import { execFile } from 'node:child_process';

/**
 * What the watchdog asks before each ping: the status line for `systemctl status` ('ready', or
 * what is not). A database outage is reported there, not punished: a restart would not bring the
 * database back, and chat keeps serving from its spool (docs/operations.md).
 */
export type WatchdogStatus = () => Promise<string>;

/**
 * The systemd notify protocol (`Type=notify`, `WatchdogSec=`) for a Node.js process, which cannot
 * open the Unix datagram socket itself without a native module: each message is sent by
 * `systemd-notify`. Two things keep systemd from dropping a message of that short-lived child
 * (it attributes messages by the sender's process): the unit's `NotifyAccess=all`, and
 * `systemd-notify` waiting until systemd has processed the message (its default, unless
 * `--no-block`) so it has not exited yet; `MAINPID=` names this process as the service's.
 */
export class SystemdNotifier {
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly env: NodeJS.ProcessEnv,
    /** Half of WatchdogSec (systemd's advice), or null when the unit has no watchdog for us. */
    readonly watchdogIntervalMs: number | null,
  ) {}

  /** The notifier of this process, or null when systemd did not ask for notifications. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): SystemdNotifier | null {
    if (!env.NOTIFY_SOCKET) return null;
    const usec = Number(env.WATCHDOG_USEC);
    // WATCHDOG_PID names the process the watchdog is for; a child that inherited it must not ping.
    const forUs = !env.WATCHDOG_PID || Number(env.WATCHDOG_PID) === process.pid;
    const interval = forUs && Number.isFinite(usec) && usec > 0 ? Math.floor(usec / 2000) : null;
    return new SystemdNotifier(env, interval);
  }

  /** Startup is complete (the app listens). */
  ready(status: string): Promise<void> {
    return this.send(['READY=1', `STATUS=${status}`]);
  }

  /** SIGTERM arrived: systemd shows the unit as deactivating. */
  stopping(): Promise<void> {
    this.stopWatchdog();
    return this.send(['STOPPING=1', 'STATUS=finishing in-flight requests']);
  }

  /**
   * Pings the watchdog every interval once `status` has answered. The ping comes from a timer and
   * a promise, so a blocked event loop sends none; nor does a status that has not settled since
   * the last tick (a wedged pool or driver, or a loop too busy to finish it): systemd then kills
   * and restarts the unit after WatchdogSec.
   */
  startWatchdog(status: WatchdogStatus): void {
    const interval = this.watchdogIntervalMs;
    if (interval === null || this.timer) return;
    let inFlight = false;
    this.timer = setInterval(() => {
      if (inFlight) return;
      inFlight = true;
      void status()
        .catch((err: unknown) => `status failed: ${String(err)}`)
        .then((line) => this.timer && this.send(['WATCHDOG=1', `STATUS=${line}`]))
        .finally(() => (inFlight = false));
    }, interval);
    this.timer.unref();
  }

  stopWatchdog(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private send(assignments: string[]): Promise<void> {
    const args = [`--pid=${process.pid}`, ...assignments.map((a) => a.replace(/\n/g, ' '))];
    return new Promise((resolve) => {
      // A lost notification is systemd's to notice (start timeout, watchdog); never the app's crash.
      execFile('systemd-notify', args, { env: this.env, timeout: 10_000 }, () => resolve());
    });
  }
}
