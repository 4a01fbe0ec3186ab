import type { ExportManifest } from '../export/export-format.js';
import { checkDataLines, packLines } from './export-line-check.js';
import { answerTasks } from './worker-pool.js';

/** A worker thread of the offline verifier: checks blocks of data lines (checkDataLines). */
answerTasks<Uint8Array, ReturnType<typeof packLines>>((bytes, filter) => {
  const block = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const packed = packLines(checkDataLines(block, filter as ExportManifest['filter']));
  return { answer: packed, transfer: [packed.nums.buffer as ArrayBuffer] };
});
