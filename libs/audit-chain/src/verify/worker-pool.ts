import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  MessageChannel,
  type MessagePort,
  parentPort,
  receiveMessageOnPort,
  type Transferable,
  Worker,
  workerData,
} from 'node:worker_threads';

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

/** A task handed to the pool: `done` once its answer was collected. */
export interface Task<R> {
  done: boolean;
  value?: R;
}

/** What a pool's worker thread finds in `workerData` (answerTasks() reads it). */
interface PoolWorkerData {
  data: unknown;
  answers: MessagePort;
  /** Counts answers sent, so the pool can sleep until the next one (Atomics.wait). */
  signal: SharedArrayBuffer;
}

/** How long the pool sleeps waiting for an answer before it lets the event loop run once. */
const WAKE_MS = 20;

/**
 * A fixed set of worker threads that each answer one message per task, in the order given; tasks
 * go round-robin. The answers come back on ports this thread reads when it chooses (collect(),
 * answer()), not as events: a caller that keeps its thread busy (the offline verifier reads and
 * checks blocks itself between handing them out) takes them in without a turn of the event loop,
 * and sleeps on a shared counter when it must wait. A worker that fails is seen within WAKE_MS.
 */
export class WorkerPool<T, R> {
  private readonly workers: { worker: Worker; answers: MessagePort; tasks: Task<R>[] }[] = [];
  private readonly signal = new Int32Array(new SharedArrayBuffer(4));
  private next = 0;
  private failed: Error | null = null;
  private closing = false;

  /** `data` reaches each worker's handler (answerTasks()). */
  constructor(script: URL, size: number, data: unknown) {
    for (let i = 0; i < size; i++) {
      const { port1, port2 } = new MessageChannel();
      const init: PoolWorkerData = {
        data,
        answers: port2,
        signal: this.signal.buffer as SharedArrayBuffer,
      };
      const worker = new Worker(script, { workerData: init, transferList: [port2] });
      const slot = { worker, answers: port1, tasks: [] as Task<R>[] };
      worker.on('error', (err) => (this.failed ??= err));
      worker.on('exit', (code) => {
        // Closed mid-task (the reader stopped early): its answers are not awaited any more.
        if (slot.tasks.length && !this.closing)
          this.failed ??= new Error(`a worker thread exited (code ${code}) mid-task`);
      });
      this.workers.push(slot);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  run(task: T, transfer: Transferable[] = []): Task<R> {
    if (this.failed) throw this.failed;
    const slot = this.workers[this.next++ % this.workers.length]!;
    const t: Task<R> = { done: false };
    slot.tasks.push(t);
    slot.worker.postMessage(task, transfer);
    return t;
  }

  /** Takes in the answers sent so far; returns how many tasks are still unanswered. */
  collect(): number {
    let out = 0;
    for (const slot of this.workers) {
      for (let m = receiveMessageOnPort(slot.answers); m; m = receiveMessageOnPort(slot.answers)) {
        const t = slot.tasks.shift()!;
        [t.done, t.value] = [true, m.message as R];
      }
      out += slot.tasks.length;
    }
    return out;
  }

  /** The task's answer, sleeping until it comes; rejects if a worker failed. */
  async answer(t: Task<R>): Promise<R> {
    for (;;) {
      const seen = Atomics.load(this.signal, 0);
      this.collect();
      if (t.done) return t.value!;
      if (this.failed) throw this.failed;
      // Answers only wake this sleep; a worker's error or exit is an event, seen on the next turn.
      if (Atomics.wait(this.signal, 0, seen, WAKE_MS) === 'timed-out') await nextTurn();
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const slot of this.workers) slot.answers.close();
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}

/**
 * The body of a pool's worker script: answers each task with `handle(task, data)` (`data` as given
 * to the pool), sending back the answer with the buffers it lists to transfer.
 */
export function answerTasks<T, R>(
  handle: (task: T, data: unknown) => { answer: R; transfer?: Transferable[] },
): void {
  const { data, answers, signal } = workerData as PoolWorkerData;
  const sent = new Int32Array(signal);
  parentPort!.on('message', (task: T) => {
    const { answer, transfer } = handle(task, data);
    answers.postMessage(answer, transfer ?? []);
    Atomics.add(sent, 0, 1);
    Atomics.notify(sent, 0);
  });
}
