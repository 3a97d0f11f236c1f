import { describe, expect, it } from 'vitest';
import { probe } from '../../src/harness/bench/probe.js';
import type { ProbeTouch } from '../../src/harness/thread/bench-roles.js';
import type { KernelCommand, PolicyOptions } from '../../src/kernel/index.js';
import { usePool } from '../helpers.js';

/**
 * Deterministic two-CPU probes (wordsPerPage 16: a PTE table maps 16 pages).
 * CPU 1 loads the heap [0, 4) and the N data pages [16, 16 + N) and fetches
 * the text [32, 36); CPU 0 munmaps the data (a whole PTE table's span, so the
 * table is freed) while CPU 1 only takes IPIs; then CPU 1 touches the heap
 * and the text again. Every count is exact.
 */
const N = 8;
const SETUP: KernelCommand[] = [
  { op: 'createMm', asid: 0 },
  { op: 'switchMm', asid: 0 },
  { op: 'mmap', asid: 0, start: 0, pages: 4, write: true },
  { op: 'mmap', asid: 0, start: 16, pages: N, write: true },
  { op: 'mmap', asid: 0, start: 32, pages: 4, exec: true },
];
const range = (start: number, n: number, type: ProbeTouch['type']): ProbeTouch[] => Array.from({ length: n }, (_, i) => ({ type, vpn: start + i }));
const BEFORE = [...range(0, 4, 'load'), ...range(16, N, 'load'), ...range(32, 4, 'fetch')];
const AFTER = [...range(0, 4, 'load'), ...range(32, 4, 'fetch')];

interface Expect {
  flushes: { page: number; range: number; mm: number; all: number; itlb: number; walk: number; total: number };
  /** Remote invalidations: IPIs (ipi flavour) or broadcasts. */
  remote: number;
  /** tlb_remove_table_sync_one IPIs (sent on broadcast hardware too). */
  syncIpis: number;
  dropped: { dtlb: number; itlb: number; walk: number };
  refills: number;
  itlbRefills: number;
}

const POLICIES: { arch: string; archOptions?: PolicyOptions; label: string; hw: { arm11mpcore: Expect; arm64: Expect } }[] = [
  {
    arch: 'generic-2011-series',
    label: 'generic-2011-series: range flush at end_vma, then the whole mm for the freed table',
    hw: {
      arm11mpcore: { flushes: { page: 0, range: 1, mm: 1, all: 0, itlb: 1, walk: 1, total: 2 }, remote: 2, syncIpis: 0, dropped: { dtlb: N + 4, itlb: 4, walk: 0 }, refills: 8, itlbRefills: 4 },
      // arm64: the whole-mm flush also drops the 4 walk-cache entries (pgd slot, tables [0,16), [16,32), [32,48)).
      arm64: { flushes: { page: 0, range: 1, mm: 1, all: 0, itlb: 1, walk: 1, total: 2 }, remote: 2, syncIpis: 0, dropped: { dtlb: N + 4, itlb: 4, walk: 4 }, refills: 8, itlbRefills: 4 },
    },
  },
  {
    arch: 'generic-range',
    archOptions: { itlb: 'vma-exec' },
    label: 'generic-range, exec flag in the gather: one range flush over the table span, D-TLB only',
    hw: {
      arm11mpcore: { flushes: { page: 0, range: 1, mm: 0, all: 0, itlb: 0, walk: 0, total: 1 }, remote: 1, syncIpis: 0, dropped: { dtlb: N, itlb: 0, walk: 0 }, refills: 0, itlbRefills: 0 },
      // leaf-only invalidates leave the walk cache alone on arm64
      arm64: { flushes: { page: 0, range: 1, mm: 0, all: 0, itlb: 0, walk: 0, total: 1 }, remote: 1, syncIpis: 0, dropped: { dtlb: N, itlb: 0, walk: 0 }, refills: 0, itlbRefills: 0 },
    },
  },
  {
    arch: 'generic-range',
    archOptions: { itlb: 'always' },
    label: 'generic-range, I-TLB always: the same range flush with the I-TLB, which holds nothing of it',
    hw: {
      arm11mpcore: { flushes: { page: 0, range: 1, mm: 0, all: 0, itlb: 1, walk: 0, total: 1 }, remote: 1, syncIpis: 0, dropped: { dtlb: N, itlb: 0, walk: 0 }, refills: 0, itlbRefills: 0 },
      arm64: { flushes: { page: 0, range: 1, mm: 0, all: 0, itlb: 1, walk: 0, total: 1 }, remote: 1, syncIpis: 0, dropped: { dtlb: N, itlb: 0, walk: 0 }, refills: 0, itlbRefills: 0 },
    },
  },
  {
    arch: 'linux-6',
    label: 'linux-6: a range flush, a page flush with the walk cache for the freed table, and a sync IPI',
    hw: {
      // IPI hardware needs no sync IPI: the flush IPI already waited for every walker.
      arm11mpcore: { flushes: { page: 1, range: 1, mm: 0, all: 0, itlb: 0, walk: 1, total: 2 }, remote: 2, syncIpis: 0, dropped: { dtlb: N, itlb: 0, walk: 0 }, refills: 0, itlbRefills: 0 },
      // the non-leaf page flush drops the two walk-cache entries spanning [16, 32)
      arm64: { flushes: { page: 1, range: 1, mm: 0, all: 0, itlb: 0, walk: 1, total: 2 }, remote: 2, syncIpis: 1, dropped: { dtlb: N, itlb: 0, walk: 2 }, refills: 0, itlbRefills: 0 },
    },
  },
];

describe('bench counters: a known munmap of N pages under each policy', () => {
  const pool = usePool();
  for (const p of POLICIES) {
    for (const hw of ['arm11mpcore', 'arm64'] as const) {
      it(`${p.label} (${hw})`, async () => {
        const e = p.hw[hw];
        const r = await probe(pool(), { arch: p.arch, archOptions: p.archOptions, hw, machine: { wordsPerPage: 16, frames: 256 }, setup: SETUP, script: [{ op: 'munmap', asid: 0, start: 16, end: 16 + N }], before: BEFORE, after: AFTER });
        expect(r.violations).toBe(0);
        expect(r.before.every((x) => x === 0)).toBe(true);
        expect(r.after.every((x) => x === 0)).toBe(true);
        const [c0, c1] = r.counters;
        expect(r.script[0].stats!.flushes).toEqual(e.flushes);
        expect(r.script[0].stats!.syncIpis).toBe(e.syncIpis);
        if (hw === 'arm11mpcore') {
          expect(c0.ipisSent).toBe(e.remote);
          expect(c1.ipisReceived).toBe(e.remote);
          expect(c0.broadcastsSent).toBe(0);
        } else {
          expect(c0.broadcastsSent).toBe(e.remote);
          expect(c0.ipisSent).toBe(e.syncIpis);
        }
        // CPU 0 made no access: only CPU 1's caches held anything.
        expect([c0.invalidatedDtlb, c0.invalidatedItlb, c0.invalidatedWalk]).toEqual([0, 0, 0]);
        expect({ dtlb: c1.invalidatedDtlb, itlb: c1.invalidatedItlb, walk: c1.invalidatedWalk }).toEqual(e.dropped);
        expect(c1.refillsAfterDrop).toBe(e.refills);
        expect(c1.itlbRefillsAfterDrop).toBe(e.itlbRefills);
        // Every data page and the PTE table were freed after the flush.
        expect(r.script[0].stats!.frees).toMatchObject({ data: N, tables: 1, immediate: 0, delayed: N + 1 });
      });
    }
  }

  it('a refill after a drop is counted once, and a plain miss is not counted', async () => {
    // madvise drops [16, 24) (D-TLB) and the pages are faulted in again by nobody: CPU 1's
    // loads then fault (not refills); the heap was never dropped, its loads hit.
    const r = await probe(pool(), {
      arch: 'linux-6',
      hw: 'arm11mpcore',
      machine: { wordsPerPage: 16, frames: 256 },
      setup: SETUP,
      script: [{ op: 'madvise', asid: 0, start: 16, end: 16 + N }],
      before: BEFORE,
      after: [...range(0, 4, 'load'), ...range(16, 2, 'load')],
    });
    const c1 = r.counters[1];
    expect(c1.invalidatedDtlb).toBe(N);
    expect(c1.refillsAfterDrop).toBe(0);
    expect(r.after).toEqual([0, 0, 0, 0, 1, 1]); // AccessResult.FAULT for the zapped pages
  });
});
