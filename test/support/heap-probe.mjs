// Preloaded (`node --expose-gc --import`) into a process under a memory test: on the IPC message
// 'heap' it collects garbage until the heap stops shrinking and answers with the live heap size.
process.on('message', (message) => {
  if (message !== 'heap') return;
  let before = Infinity;
  let used = process.memoryUsage().heapUsed;
  for (let i = 0; i < 10 && used < before; i++) {
    before = used;
    globalThis.gc();
    used = process.memoryUsage().heapUsed;
  }
  process.send({ heapUsed: used });
});
