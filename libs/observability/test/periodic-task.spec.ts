import { jest } from '@jest/globals';
import { PeriodicTask } from '../src/periodic-task.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const quiet = { error: jest.fn() };

describe('PeriodicTask', () => {
  afterEach(() => jest.useRealTimers());

  it('skips a tick while the previous run is still going', async () => {
    jest.useFakeTimers();
    const gate = deferred();
    let runs = 0;
    const task = new PeriodicTask(
      async () => {
        runs++;
        await gate.promise;
      },
      { name: 'slow', everyMs: 1_000, log: quiet },
    ).start();
    jest.advanceTimersByTime(1_000);
    jest.advanceTimersByTime(1_000);
    jest.advanceTimersByTime(1_000);
    expect(runs).toBe(1);
    gate.resolve();
    await task.runNow();
    jest.advanceTimersByTime(1_000);
    expect(runs).toBe(2);
    await task.stop();
  });

  it('logs a failed run with { err } and runs again next time', async () => {
    const log = { error: jest.fn() };
    const failure = new Error('database gone');
    let calls = 0;
    const task = new PeriodicTask(
      () => {
        calls++;
        if (calls === 1) throw failure;
      },
      { name: 'usage flush', everyMs: 60_000, log },
    );
    await task.runNow();
    expect(log.error).toHaveBeenCalledWith({ err: failure }, 'usage flush failed');
    await task.runNow();
    expect(calls).toBe(2);
    expect(log.error).toHaveBeenCalledTimes(1);
  });

  it('stop() waits for the run in progress and no tick follows', async () => {
    jest.useFakeTimers();
    const gate = deferred();
    let runs = 0;
    let finished = false;
    const task = new PeriodicTask(
      async () => {
        runs++;
        await gate.promise;
        finished = true;
      },
      { name: 'flush', everyMs: 1_000, log: quiet },
    ).start();
    jest.advanceTimersByTime(1_000);
    const stopped = task.stop();
    gate.resolve();
    await stopped;
    expect(finished).toBe(true);
    jest.advanceTimersByTime(5_000);
    expect(runs).toBe(1);
  });
});
