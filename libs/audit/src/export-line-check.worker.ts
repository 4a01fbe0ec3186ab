import { parentPort, workerData } from 'node:worker_threads';
import type { ExportManifest } from './export-format.js';
import { checkDataLines, packLines } from './export-line-check.js';

/** A worker thread of the offline verifier: checks blocks of data lines (checkDataLines). */
const filter = workerData as ExportManifest['filter'];
parentPort!.on('message', (bytes: Uint8Array) => {
  const block = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const packed = packLines(checkDataLines(block, filter));
  parentPort!.postMessage(packed, [packed.nums.buffer as ArrayBuffer]);
});
