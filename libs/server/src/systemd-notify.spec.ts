import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SystemdNotifier } from './systemd-notify.js';

// The notifier against a real notify socket: a Unix datagram socket opened by python3 (Node.js
// cannot open one), to which the real systemd-notify sends, as it does to systemd's.
const LISTENER = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps("bound"), flush=True)
while True:
    print(json.dumps(s.recv(4096).decode()), flush=True)
`;

class NotifySocket {
  readonly messages: string[] = [];
  private constructor(
    readonly path: string,
    private readonly child: ChildProcess,
  ) {}

  static async open(path: string): Promise<NotifySocket> {
    const child = spawn('python3', ['-c', LISTENER, path], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const socket = new NotifySocket(path, child);
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      lines.on('line', (line) => {
        const message = JSON.parse(line) as string;
        if (message === 'bound') resolve();
        else socket.messages.push(message);
      });
    });
    return socket;
  }

  /** The variables of every message received so far, one array per message. */
  get received(): string[][] {
    return this.messages.map((m) => m.split('\n').filter(Boolean));
  }

  async waitFor(predicate: (messages: string[][]) => boolean, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!predicate(this.received)) {
      if (Date.now() > deadline) throw new Error(`not received; got ${JSON.stringify(this.received)}`); // prettier-ignore
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.child.kill();
  }
}

describe('SystemdNotifier (Type=notify and the watchdog through systemd-notify)', () => {
  let dir: string;
  let socket: NotifySocket;
  let notifier: SystemdNotifier | null = null;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'enclave-notify-'));
    socket = await NotifySocket.open(join(dir, 'notify'));
  });

  afterEach(() => {
    notifier?.stopWatchdog();
    socket.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = (extra: Record<string, string> = {}) => ({
    ...process.env,
    NOTIFY_SOCKET: socket.path,
    ...extra,
  });

  it('sends READY=1 naming this process, then WATCHDOG=1 every half WatchdogSec with the status', async () => {
    notifier = SystemdNotifier.fromEnv(env({ WATCHDOG_USEC: '400000' }))!;
    expect(notifier.watchdogIntervalMs).toBe(200);
    await notifier.ready('listening on 127.0.0.1:8080');
    expect(socket.received[0]).toEqual(
      expect.arrayContaining([
        'READY=1',
        'STATUS=listening on 127.0.0.1:8080',
        `MAINPID=${process.pid}`,
      ]),
    );

    let status = 'ready';
    notifier.startWatchdog(() => Promise.resolve(status));
    await socket.waitFor((ms) => ms.some((m) => m.includes('WATCHDOG=1')));
    status = 'not ready: database unreachable (ECONNREFUSED)';
    await socket.waitFor((ms) =>
      ms.some((m) => m.includes('WATCHDOG=1') && m.includes(`STATUS=${status}`)),
    );
  });

  it('sends no ping while the status does not settle (a wedged process)', async () => {
    notifier = SystemdNotifier.fromEnv(env({ WATCHDOG_USEC: '100000' }))!;
    let settle: (s: string) => void = () => undefined;
    let asked = 0;
    notifier.startWatchdog(() => {
      asked++;
      return new Promise<string>((resolve) => (settle = resolve));
    });
    await new Promise((r) => setTimeout(r, 500)); // ten intervals
    expect(asked).toBe(1);
    expect(socket.received.flat()).not.toContain('WATCHDOG=1');
    settle('ready');
    await socket.waitFor((ms) => ms.some((m) => m.includes('WATCHDOG=1')));
  });

  it('says STOPPING=1 on shutdown and pings no more', async () => {
    notifier = SystemdNotifier.fromEnv(env({ WATCHDOG_USEC: '100000' }))!;
    notifier.startWatchdog(() => Promise.resolve('ready'));
    await socket.waitFor((ms) => ms.some((m) => m.includes('WATCHDOG=1')));
    await notifier.stopping();
    await socket.waitFor((ms) => ms.some((m) => m.includes('STOPPING=1')));
    await new Promise((r) => setTimeout(r, 100)); // a ping already on its way may land
    const count = socket.messages.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(socket.messages.length).toBe(count);
  });

  it('does nothing without NOTIFY_SOCKET, and no watchdog for another process or without one', () => {
    const { NOTIFY_SOCKET: _, ...without } = process.env;
    expect(SystemdNotifier.fromEnv(without)).toBeNull();
    expect(SystemdNotifier.fromEnv(env())!.watchdogIntervalMs).toBeNull();
    expect(
      SystemdNotifier.fromEnv(env({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' }))!
        .watchdogIntervalMs,
    ).toBeNull();
    expect(
      SystemdNotifier.fromEnv(
        env({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(process.pid) }),
      )!.watchdogIntervalMs,
    ).toBe(15_000);
  });
});
