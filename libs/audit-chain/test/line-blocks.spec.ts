import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fileLineBlocks, inOrder } from '../src/verify/line-blocks.js';
import { WorkerPool, workerScript } from '../src/verify/worker-pool.js';

const dir = mkdtempSync(join(tmpdir(), 'enclave-line-blocks-'));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/**
 * A worker script that answers through the pool as the verifier's does (answerTasks from the
 * build, as workerScript() finds it), with the block's text upper-cased, after `body` ran.
 */
function workerFile(name: string, body = ''): URL {
  const pool = workerScript('worker-pool').href;
  return pathToFileURL(
    file(
      name,
      `import { answerTasks } from ${JSON.stringify(pool)};
answerTasks((bytes) => { ${body}; return { answer: Buffer.from(bytes).toString().toUpperCase() }; });`,
    ),
  );
}

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();

describe('fileLineBlocks', () => {
  it('cuts a file at newlines, hands every byte to onRead once, and grows for a line longer than a block', () => {
    const lines = ['a', 'bb', 'x'.repeat(40), 'ccc', '', 'dddd', 'last without newline'];
    const content = lines.join('\n');
    const read: Buffer[] = [];
    const blocks = [
      ...fileLineBlocks(file('lines.txt', content), 16, (b) => read.push(Buffer.from(b))),
    ];
    expect(blocks.map(text).join('')).toBe(content);
    expect(Buffer.concat(read).toString()).toBe(content);
    // Each block but the last ends a line; the 40-character line is one block of its own.
    for (const b of blocks.slice(0, -1)) expect(text(b).endsWith('\n')).toBe(true);
    expect(blocks.map(text)).toContain(`${'x'.repeat(40)}\n`);
    // Blocks are separate buffers, so each can be transferred to a worker.
    expect(new Set(blocks.map((b) => b.buffer)).size).toBe(blocks.length);
  });

  it('gives nothing for an empty file', () => {
    expect([...fileLineBlocks(file('empty.txt', ''), 16, () => {})]).toEqual([]);
  });
});

describe('inOrder with a worker pool', () => {
  const blocks = () => fileLineBlocks(file('many.txt', 'line\n'.repeat(400)), 64, () => {});

  it('hands out every block in order, some checked by the worker and some on this thread', async () => {
    const pool = new WorkerPool<Uint8Array, string>(workerFile('upper.mjs'), 1, null);
    const out: string[] = [];
    try {
      for await (const r of inOrder(blocks(), pool, (b) => b.toString())) out.push(r);
    } finally {
      await pool.close();
    }
    expect(out.join('').toLowerCase()).toBe('line\n'.repeat(400));
    const byWorker = out.filter((r) => r.startsWith('LINE')).length;
    expect(byWorker).toBeGreaterThan(0);
    expect(byWorker).toBeLessThan(out.length);
  });

  it('fails, rather than waits for ever, when a worker throws or exits mid-task', async () => {
    for (const [name, body, message] of [
      ['throws.mjs', 'throw new Error("bad block")', 'bad block'],
      ['exits.mjs', 'process.exit(3)', 'a worker thread exited (code 3) mid-task'],
    ] as const) {
      const pool = new WorkerPool<Uint8Array, string>(workerFile(name, body), 1, null);
      try {
        const all = async () => {
          for await (const _ of inOrder(blocks(), pool, (b) => b.toString()));
        };
        await expect(all()).rejects.toThrow(message);
      } finally {
        await pool.close();
      }
    }
  });
});
