import { describe, expect, it } from 'vitest';
import nested from '../../scenarios/nested-gather-freed-tables.js';
import parallel from '../../scenarios/parallel-madv-dontneed.js';
import { builtinScenarios } from '../../scenarios/index.js';
import { exemptUnder, sweepKnobs } from '../../src/harness/soak.js';

describe('the sweep knobs a scenario declares its race closed under', () => {
  it('parallel-madv-dontneed: a batch that fills on the range\'s last page leaves nothing pending; others keep the race', () => {
    const batched = parallel.combinations.find((c) => c.arch === 'arm-2.6.38')!;
    const freesAtOnce = parallel.combinations.find((c) => c.arch === 'sh-2.6.38')!;
    expect(exemptUnder(parallel, { batchCapacity: 1, allocOrder: 'lifo' }, batched)).toMatch(/nothing is pending/);
    expect(exemptUnder(parallel, { batchCapacity: 2, allocOrder: 'fifo' }, batched)).toMatch(/nothing is pending/);
    expect(exemptUnder(parallel, { batchCapacity: 7, allocOrder: 'lifo' }, batched)).toBeNull();
    expect(exemptUnder(parallel, { batchCapacity: 64, allocOrder: 'random' }, batched)).toBeNull();
    expect(exemptUnder(parallel, { allocOrder: 'lifo' }, batched)).toBeNull();
    // sh-2.6.38 frees each page before any flush: caught whatever the batch.
    expect(exemptUnder(parallel, { batchCapacity: 1, allocOrder: 'lifo' }, freesAtOnce)).toBeNull();
  });

  it('nested-gather-freed-tables: the table-batch fallback frees the table before the nested finish', () => {
    const c = nested.combinations.find((x) => x.expect === 'caught')!;
    expect(exemptUnder(nested, { allocOrder: 'lifo', tableBatchAlloc: 'fails' }, c)).toMatch(/tlb_remove_table_one/);
    expect(exemptUnder(nested, { batchCapacity: 1, allocOrder: 'lifo' }, c)).toMatch(/table batch of one/);
    expect(exemptUnder(nested, { batchCapacity: 2, allocOrder: 'lifo' }, c)).toBeNull();
  });

  it('every other shipped scenario expects its caught combinations caught under every knob', () => {
    for (const s of builtinScenarios().filter((x) => x !== parallel && x !== nested)) for (const k of sweepKnobs()) for (const c of s.combinations) expect(exemptUnder(s, k, c), s.name).toBeNull();
  });
});
