import { describe, expect, it } from 'vitest';
import nested from '../../scenarios/nested-gather-freed-tables.js';
import parallel from '../../scenarios/parallel-madv-dontneed.js';
import { SCENARIOS } from '../../scenarios/index.js';
import { exemptUnder, sweepKnobs } from '../../src/harness/soak.js';

describe('the sweep knobs a scenario declares its race closed under', () => {
  it('parallel-madv-dontneed: a batch that fills on the range\'s last page leaves nothing pending; others keep the race', () => {
    expect(exemptUnder(parallel, { batchCapacity: 1, allocOrder: 'lifo' })).toMatch(/nothing is pending/);
    expect(exemptUnder(parallel, { batchCapacity: 2, allocOrder: 'fifo' })).toMatch(/nothing is pending/);
    expect(exemptUnder(parallel, { batchCapacity: 7, allocOrder: 'lifo' })).toBeNull();
    expect(exemptUnder(parallel, { batchCapacity: 64, allocOrder: 'random' })).toBeNull();
    expect(exemptUnder(parallel, { allocOrder: 'lifo' })).toBeNull();
  });

  it('nested-gather-freed-tables: the table-batch fallback frees the table before the nested finish', () => {
    expect(exemptUnder(nested, { allocOrder: 'lifo', tableBatchAlloc: 'fails' })).toMatch(/tlb_remove_table_one/);
    expect(exemptUnder(nested, { batchCapacity: 1, allocOrder: 'lifo' })).toMatch(/table batch of one/);
    expect(exemptUnder(nested, { batchCapacity: 2, allocOrder: 'lifo' })).toBeNull();
  });

  it('every other shipped scenario expects its caught combinations caught under every knob', () => {
    for (const s of SCENARIOS.filter((x) => x !== parallel && x !== nested)) for (const k of sweepKnobs()) expect(exemptUnder(s, k), s.name).toBeNull();
  });
});
