import { Worker } from 'node:worker_threads';

/**
 * The URL of a worker script that sits next to this module. The apps run the build, where the
 * script is the .js beside this file; the tests run the TypeScript sources (jest), and a worker
 * cannot, so there it is the build's copy under dist/ (`npm test` builds first).
 */
export function workerScript(name: string): URL {
  const here = new URL(`./${name}.js`, import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return here;
  return new URL(here.href.replace(/\/libs\/(?=[^/]+\/src\/)/, '/dist/libs/'));
}

interface Pending<R> {
  resolve(value: R): void;
  reject(err: Error): void;
}

/**
 * A fixed set of worker threads that each answer one message per task, in the order given; tasks
 * go round-robin. `run` resolves with the worker's answer; close() ends the threads.
 */
export class WorkerPool<T, R> {
  private readonly workers: { worker: Worker; queue: Pending<R>[] }[] = [];
  private next = 0;
  private failed: Error | null = null;
  private closing = false;

  constructor(script: URL, size: number, workerData: unknown) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(script, { workerData });
      const slot = { worker, queue: [] as Pending<R>[] };
      worker.on('message', (value: R) => slot.queue.shift()?.resolve(value));
      const fail = (err: Error) => {
        this.failed ??= err;
        for (const p of slot.queue.splice(0)) p.reject(err);
      };
      worker.on('error', fail);
      worker.on('exit', (code) => {
        // Closed mid-task (the reader stopped early): its answers are not awaited any more.
        if (slot.queue.length && !this.closing)
          fail(new Error(`a worker thread exited (code ${code}) mid-task`));
      });
      this.workers.push(slot);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  run(task: T, transfer: ArrayBuffer[] = []): Promise<R> {
    if (this.failed) return Promise.reject(this.failed);
    const slot = this.workers[this.next++ % this.workers.length]!;
    return new Promise<R>((resolve, reject) => {
      slot.queue.push({ resolve, reject });
      slot.worker.postMessage(task, transfer);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
