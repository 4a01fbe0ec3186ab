import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { RecordSpool, SpoolFullError } from './record-spool.js';

describe('RecordSpool', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'enclave-spool-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const spoolAt = (path: string, maxBytes = 1 << 20) =>
    new RecordSpool<{ n: number }>(path, maxBytes, new Registry());

  it('keeps records in the order they were appended, also for a new process', async () => {
    const path = join(dir, 'spool', 'chat.jsonl');
    const spool = spoolAt(path);
    await Promise.all([1, 2, 3].map((n) => spool.append({ n })));
    await spool.append({ n: 4 });
    expect(spool.size).toBe(4);
    const again = spoolAt(path);
    expect(again.size).toBe(4);
    expect(await again.read()).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
  });

  it('drops what was written and keeps what was appended since', async () => {
    const spool = spoolAt(join(dir, 'chat.jsonl'));
    for (const n of [1, 2, 3]) await spool.append({ n });
    const read = await spool.read();
    await spool.append({ n: 4 });
    await spool.dropFirst(read.length);
    expect(await spool.read()).toEqual([{ n: 4 }]);
    expect(spool.size).toBe(1);
    await spool.dropFirst(1);
    expect(spool.size).toBe(0);
    expect(readFileSync(join(dir, 'chat.jsonl'), 'utf8')).toBe('');
  });

  it('skips a line torn by a crash and starts the next record on a line of its own', async () => {
    const path = join(dir, 'chat.jsonl');
    const first = spoolAt(path);
    await first.append({ n: 1 });
    appendFileSync(path, '{"n":'); // the process died in the middle of this write
    const spool = spoolAt(path);
    await spool.append({ n: 3 });
    expect(await spool.read()).toEqual([{ n: 1 }, { n: 3 }]);
  });

  it('refuses a record that would take it past its size, and counts it', async () => {
    const registry = new Registry();
    const spool = new RecordSpool<{ s: string }>(join(dir, 'chat.jsonl'), 100, registry);
    await spool.append({ s: 'x'.repeat(50) });
    await expect(spool.append({ s: 'y'.repeat(50) })).rejects.toBeInstanceOf(SpoolFullError);
    expect(await spool.read()).toHaveLength(1);
    expect(await registry.metrics()).toMatch(/^enclave_spool_refused_total 1$/m);
    expect(await registry.metrics()).toMatch(/^enclave_spool_entries 1$/m);
  });
});
