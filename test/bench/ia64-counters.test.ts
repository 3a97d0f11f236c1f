import { describe, expect, it } from 'vitest';
import { probe } from '../../src/harness/bench/probe.js';
import type { ProbeTouch } from '../../src/harness/thread/bench-roles.js';
import type { KernelCommand } from '../../src/kernel/index.js';
import { usePool } from '../helpers.js';

/**
 * ia64-2.6.38 on its own hardware, two CPUs, deterministic (no speculation in
 * probes; wordsPerPage 16). CPU 1 loads the heap [0, 4) and the data
 * [16, 24); CPU 0 munmaps the data, whose PTE table [16, 32) goes to CPU 0's
 * quicklist. tlb_finish_mmu purges [16, 24) by ptc.ga (a broadcast, no IPI)
 * and then the VHPT range of it (the walk cache: the entries for the PTE
 * table of [16, 32) and for the PMD table above it), then frees the pages.
 */
const SETUP: KernelCommand[] = [
  { op: 'createMm', asid: 0 },
  { op: 'switchMm', asid: 0 },
  { op: 'mmap', asid: 0, start: 0, pages: 4, write: true },
  { op: 'mmap', asid: 0, start: 16, pages: 8, write: true },
];
const range = (start: number, n: number): ProbeTouch[] => Array.from({ length: n }, (_, i) => ({ type: 'load', vpn: start + i }));

describe('ia64-2.6.38 on ia64: ptc.ga range purge and VHPT purge', () => {
  const pool = usePool();
  it('two broadcasts and no IPI; the data TLB entries, then the VHPT translations go; the table is parked, the pages freed', async () => {
    const r = await probe(pool(), {
      arch: 'ia64-2.6.38',
      hw: 'ia64',
      machine: { wordsPerPage: 16, frames: 256 },
      setup: SETUP,
      script: [{ op: 'munmap', asid: 0, start: 16, end: 24 }],
      before: [...range(0, 4), ...range(16, 8)],
      after: range(0, 4),
    });
    expect(r.violations).toBe(0);
    const [c0, c1] = r.counters;
    expect(r.script[0].stats!.flushes).toEqual({ page: 0, range: 2, mm: 0, all: 0, itlb: 1, walk: 1, total: 2 });
    expect(c0.broadcastsSent).toBe(2);
    expect(c0.ipisSent).toBe(0);
    expect(c1.ipisReceived).toBe(0);
    expect({ dtlb: c1.invalidatedDtlb, itlb: c1.invalidatedItlb, walk: c1.invalidatedWalk }).toEqual({ dtlb: 8, itlb: 0, walk: 2 });
    expect(r.script[0].stats!.frees).toMatchObject({ data: 8, tables: 0, parked: 1, immediate: 0, delayed: 8 });
    expect(r.after.every((x) => x === 0)).toBe(true);
  });
});
