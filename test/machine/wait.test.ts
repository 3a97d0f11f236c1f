import { describe, expect, it } from 'vitest';
import { STARVED_GRACE, STARVED_STEPS, type WaitOptions, NO_POLL, waitUntil } from '../../src/machine/wait.js';

/** A wait on a condition that turns true after `afterMs`, whose awaited CPU's step count is `progress()`. */
function wait(afterMs: number, timeoutMs: number, progress?: () => number): void {
  const i32 = new Int32Array(new SharedArrayBuffer(1024));
  const t0 = performance.now();
  const o: WaitOptions = {
    spin: 10,
    poll: NO_POLL,
    sleep: () => Atomics.wait(i32, 100, 0, 1),
    timeoutMs,
    onTimeout: (ms) => new Error(`timed out after ${ms.toFixed(0)} ms`),
    gate: null,
    progressOf: progress,
  };
  waitUntil(i32, () => performance.now() - t0 >= afterMs, o);
}

describe('the watchdog of a wait tells a stuck CPU from a starved one', () => {
  it('fires past its time when the awaited CPU keeps executing (stuck, e.g. interrupts off for good)', () => {
    let steps = 0;
    expect(() => wait(2_000, 50, () => (steps += STARVED_STEPS))).toThrow(/timed out/);
  });

  it('waits on past its time while the awaited CPU executes almost nothing (the host gave it no time)', () => {
    expect(() => wait(200, 50, () => 7)).not.toThrow();
  });

  it('gives up on a starved CPU too, at STARVED_GRACE times its time', () => {
    const t0 = performance.now();
    expect(() => wait(60_000, 20, () => 7)).toThrow(/timed out/);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(20 * STARVED_GRACE);
  });

  it('without a step count to look at, fires at its time', () => {
    expect(() => wait(2_000, 50)).toThrow(/timed out/);
  });
});
