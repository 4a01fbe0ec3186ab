import { closeSync, openSync, readSync } from 'node:fs';
import type { Task, WorkerPool } from './worker-pool.js';

/**
 * A file cut into blocks of whole lines (from one \n to the next), each in a buffer of its own, so
 * it can be handed to a worker thread without a copy; `onRead` sees every byte as it is read (the
 * file's SHA-256). Read synchronously, straight into the block: a verifier does nothing else
 * meanwhile, and a stream's reads cost a turn of the event loop and a trip to libuv's thread pool
 * per chunk, with both cores busy checking, plus a copy from its chunks into the blocks.
 */
export function* fileLineBlocks(
  path: string,
  blockBytes: number,
  onRead: (bytes: Uint8Array) => void,
): Generator<Uint8Array> {
  const fd = openSync(path, 'r');
  try {
    // allocUnsafeSlow: a buffer of its own (transferable), not zero-filled first.
    let block = Buffer.allocUnsafeSlow(blockBytes);
    let used = 0;
    for (;;) {
      const n = readSync(fd, block, used, block.length - used, null);
      if (n === 0) break;
      onRead(block.subarray(used, used + n));
      used += n;
      if (used < block.length) continue;
      // Full: hand out up to its last newline and start the next block with the rest (twice the
      // size if the block holds no newline at all: one line longer than a block).
      const end = block.lastIndexOf(0x0a) + 1;
      const next = Buffer.allocUnsafeSlow(Math.max(blockBytes, 2 * (used - end)));
      block.copy(next, 0, end, used);
      if (end > 0) yield block.subarray(0, end);
      [block, used] = [next, used - end];
    }
    if (used > 0) yield block.subarray(0, used);
  } finally {
    closeSync(fd);
  }
}

/**
 * Calls `fn` with each line of a block of whole lines (a \r before the \n dropped) and its number
 * from 1; returns how many lines the block holds. A string per line: decoding a whole block as one
 * string was several times slower.
 */
export function eachLine(block: Buffer, fn: (text: string, n: number) => void): number {
  let n = 0;
  for (let start = 0; start < block.length;) {
    let end = block.indexOf(0x0a, start);
    if (end === -1) end = block.length;
    n++;
    fn(block.toString('utf8', start, end > start && block[end - 1] === 0x0d ? end - 1 : end), n);
    start = end + 1;
  }
  return n;
}

/**
 * `work` over each block, on the pool's threads while they have room and on this thread
 * otherwise (rather than wait: this thread starts at once where a worker takes ~50 ms, and it has
 * time between its other duties), with the results handed out in block order. At most
 * `held` blocks are in hand at once, so memory stays bounded.
 */
export async function* inOrder<R>(
  blocks: Iterable<Uint8Array>,
  pool: WorkerPool<Uint8Array, R> | null,
  work: (block: Buffer) => R,
  perWorker = 4,
): AsyncGenerator<R> {
  const room = pool ? perWorker * pool.size : 0;
  const held = 2 * (room + perWorker);
  const inHand: Task<R>[] = [];
  for (const bytes of blocks) {
    if (pool && pool.collect() < room) {
      inHand.push(pool.run(bytes, [bytes.buffer as ArrayBuffer]));
    } else {
      const here = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      inHand.push({ done: true, value: work(here) });
    }
    while (inHand[0]?.done || inHand.length > held) yield await answer(inHand.shift()!);
  }
  while (inHand.length) yield await answer(inHand.shift()!);

  function answer(t: Task<R>): R | Promise<R> {
    return t.done ? t.value! : pool!.answer(t);
  }
}
