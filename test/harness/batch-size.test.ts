import { describe, expect, it } from 'vitest';
import { BATCH_MAX, BATCH_MS, BatchSizer, FIRST_BATCH } from '../../src/harness/batch-size.js';

describe('batch sizes of stress iterations', () => {
  it('start small, then fill BATCH_MS at the cost an iteration has once the batch runs, not counting its start', () => {
    const s = new BatchSizer();
    expect(s.size()).toBe(FIRST_BATCH);
    // 10 iterations in 50 ms, 1.5 ms each once running: the 35 ms were the batch's start.
    s.observe(10, 50, 1.5);
    expect(s.size()).toBe(Math.floor(BATCH_MS / 1.5));
    // Without the steady figure, the batch's wall time over its size.
    s.observe(10, 50);
    expect(s.size()).toBe(Math.floor(BATCH_MS / 5));
    // A steady figure above the average (a batch of one long iteration after short ones) counts no more than the average.
    s.observe(4, 8, 30);
    expect(s.size()).toBe(Math.floor(BATCH_MS / 2));
  });

  it('never past BATCH_MAX, at least one, and no more than the rest of a --duration holds', () => {
    const s = new BatchSizer();
    expect(s.size(1000)).toBe(1);
    s.observe(2, 0.01, 0.001);
    expect(s.size()).toBe(BATCH_MAX);
    s.observe(2, 400, 200);
    expect(s.size()).toBe(1);
    s.observe(10, 20, 2);
    expect(s.size(7)).toBe(4);
  });
});
