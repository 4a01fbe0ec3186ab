// The processes a benchmark run starts (simulator, Enclave chat, Portkey's gateway), and what is
// read from /proc about them while they serve: resident memory, CPU time, open descriptors.
import { spawn } from 'node:child_process';
import { openSync, readdirSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

const CLOCK_TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux x86-64 and arm64
const START_TIMEOUT_MS = 60_000;

export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A child process with its output going to `logFile`; stopped with SIGTERM, then SIGKILL. */
export class Child {
  constructor(name, args, { env, logFile, cwd }) {
    this.name = name;
    const fd = openSync(logFile, 'a');
    this.proc = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', fd, fd] });
    this.exited = new Promise((resolve) =>
      this.proc.once('exit', (code, sig) => resolve(sig ?? code)),
    );
    this.logFile = logFile;
  }

  get pid() {
    return this.proc.pid;
  }

  get alive() {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async stop(graceMs = 15_000) {
    if (!this.alive) return this.exited;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }

  /** Resolves once `probe()` is true; rejects if the process exits or takes too long. */
  async waitUntil(probe, what) {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!this.alive) throw new Error(`${this.name} exited before ${what}; see ${this.logFile}`);
      if (await probe().catch(() => false)) return;
      await sleep(100);
    }
    throw new Error(
      `${this.name}: no ${what} within ${START_TIMEOUT_MS / 1000} s; see ${this.logFile}`,
    );
  }

  waitForPort(port) {
    return this.waitUntil(
      () =>
        new Promise((resolve) => {
          const socket = connect(port, '127.0.0.1');
          socket.once('connect', () => (socket.destroy(), resolve(true)));
          socket.once('error', () => resolve(false));
        }),
      `listener on :${port}`,
    );
  }

  waitForHttp(url) {
    return this.waitUntil(async () => (await fetch(url)).ok, `200 from ${url}`);
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resident memory now, in bytes (0 once the process is gone). */
export function rssBytes(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** User + system CPU seconds used so far. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th of those.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

export function openFds(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** Samples RSS and open descriptors of some processes every `everyMs` until stopped. */
export class Sampler {
  constructor(pids, everyMs = 200) {
    this.peakRss = Object.fromEntries(pids.map((pid) => [pid, rssBytes(pid)]));
    this.peakFds = Object.fromEntries(pids.map((pid) => [pid, openFds(pid)]));
    this.cpuStart = Object.fromEntries(pids.map((pid) => [pid, cpuSeconds(pid)]));
    this.timer = setInterval(() => {
      for (const pid of pids) {
        this.peakRss[pid] = Math.max(this.peakRss[pid], rssBytes(pid));
        this.peakFds[pid] = Math.max(this.peakFds[pid], openFds(pid));
      }
    }, everyMs);
  }

  /** Peak RSS, peak descriptors and CPU seconds used since the start, per pid. */
  stop() {
    clearInterval(this.timer);
    const out = {};
    for (const pid of Object.keys(this.peakRss)) {
      out[pid] = {
        peakRss: Math.max(this.peakRss[pid], rssBytes(pid)),
        peakFds: this.peakFds[pid],
        cpu: cpuSeconds(pid) - this.cpuStart[pid],
      };
    }
    return out;
  }
}

/** Share of the machine's CPU time that was busy over the next `ms` (all cores, all processes). */
export async function machineBusy(ms = 2_000) {
  const read = () => {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    const n = ticks.map(Number);
    const idle = n[3] + (n[4] ?? 0);
    return { idle, total: n.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  await sleep(ms);
  const b = read();
  return b.total === a.total ? 0 : 1 - (b.idle - a.idle) / (b.total - a.total);
}
