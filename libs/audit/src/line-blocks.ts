import type { WorkerPool } from './worker-pool.js';

/**
 * A stream of text cut into blocks of whole lines (from one \n to the next), each in a buffer of
 * its own, so it can be handed to a worker thread without a copy.
 */
export async function* lineBlocks(
  chunks: AsyncIterable<Uint8Array>,
  blockBytes: number,
): AsyncGenerator<Uint8Array> {
  let block = new Uint8Array(blockBytes);
  let used = 0;
  for await (const chunk of chunks) {
    for (let at = 0; at < chunk.length;) {
      if (used === block.length) {
        // Full: hand out up to its last newline and start the next block with the rest.
        const end = block.lastIndexOf(0x0a) + 1;
        const next = new Uint8Array(Math.max(blockBytes, 2 * (used - end)));
        next.set(block.subarray(end, used));
        if (end > 0) yield block.subarray(0, end);
        [block, used] = [next, used - end];
      }
      const n = Math.min(chunk.length - at, block.length - used);
      block.set(chunk.subarray(at, at + n), used);
      used += n;
      at += n;
    }
  }
  if (used > 0) yield block.subarray(0, used);
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
  blocks: AsyncIterable<Uint8Array>,
  pool: WorkerPool<Uint8Array, R> | null,
  work: (block: Buffer) => R,
  perWorker = 4,
): AsyncGenerator<R> {
  const room = pool ? perWorker * pool.size : 0;
  const held = 2 * (room + perWorker);
  const inHand: { result: Promise<R>; done: boolean }[] = [];
  let atWorkers = 0;
  for await (const bytes of blocks) {
    if (pool && atWorkers < room) {
      const entry = { result: pool.run(bytes, [bytes.buffer as ArrayBuffer]), done: false };
      atWorkers++;
      const settle = () => {
        entry.done = true;
        atWorkers--;
      };
      void entry.result.then(settle, settle);
      inHand.push(entry);
    } else {
      const here = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      inHand.push({ result: Promise.resolve(work(here)), done: true });
    }
    while (inHand[0]?.done || inHand.length > held) yield await inHand.shift()!.result;
  }
  while (inHand.length) yield await inHand.shift()!.result;
}
