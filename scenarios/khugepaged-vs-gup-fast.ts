import { defineScenario } from 'smpsim';

/**
 * docs/domain.md 5.10: khugepaged collapses a PTE table's pages into a huge page
 * and frees the table while gup_fast is still reading it.
 *
 * CPU 1 runs get_user_pages_fast over a 128-page region (two PTE tables):
 * a lockless walk with interrupts off, one table level per step, with 256
 * instructions between two levels (gupGap). CPU 0 is khugepaged: for each
 * table, pmdp_collapse_flush clears the pmd entry and flushes the span, the
 * pages are copied into new ones, and the old table is freed (pte_free).
 *
 * With IPI flushes (x86 without INVLPGB) the flush cannot finish while the
 * walker has interrupts off, so a walk that read the old pmd is over before
 * the table goes. With a hardware-broadcast invalidation nobody is
 * interrupted and the table is freed under the walker: gup_fast's own
 * recheck of the pmd (70cbc3cc78a9) comes only after it read the table. The
 * fix, 2ba99c5e0881 ("mm/khugepaged: fix GUP-fast interaction by sending
 * IPI", Jann Horn, 6.2 and stable), calls tlb_remove_table_sync_one after
 * pmdp_collapse_flush: an IPI the walker can take only once its interrupts
 * are back on. The checker sees gup_fast read a free or reused table
 * (gup-fast-read-freed-table).
 *
 * Each table is collapsed twice per iteration (a collapse maps the span
 * through a new table, which the second collapse frees in turn).
 */
const REGION = { start: 64, pages: 128 };
const TABLES = [64, 128];

export default defineScenario({
  name: 'khugepaged-vs-gup-fast',
  title: 'khugepaged frees a collapsed PTE table under a gup_fast walk',
  description:
    'CPU 1 (same mm) runs get_user_pages_fast with interrupts off over two PTE tables that CPU 0, as khugepaged, collapses: pmd cleared, span flushed, pages copied, table freed. With broadcast invalidation nothing waits for the walker unless the collapse sends a synchronising IPI first (2ba99c5e0881); an IPI flush waits it out by itself. The checker sees gup_fast read a freed or reused table. Each expectation rests on the khugepaged row of linux-6 in docs/fidelity.md and on the section of its hardware flavour.',
  domain: '5.10',
  cpus: 2,
  iterations: 200,
  machine: { frames: 512 },
  setup: [
    { op: 'createMm', asid: 0 },
    { op: 'switchMm', asid: 0 },
    { op: 'mmap', asid: 0, start: REGION.start, pages: REGION.pages, write: true },
  ],
  script: [
    { op: 'waitSteps', steps: 400 },
    ...TABLES.map((vpn) => ({ op: 'collapse' as const, asid: 0, vpn })),
    { op: 'waitSteps', steps: 1200 },
    ...TABLES.map((vpn) => ({ op: 'collapse' as const, asid: 0, vpn })),
  ],
  // gup_fast only (no access through the TLB), as in gup-fast-vs-table-free; idle spans let the run loop see the stop flag.
  workload: () => ({ spaces: [0], ranges: [REGION], mix: { load: 0, store: 0, fetch: 0, gupFast: 4, idle: 1 }, gupGap: 256 }),
  combinations: [
    // `khugepaged:linux-6` collapseSync=none (before 2ba99c5e0881) on broadcast hardware: `hw:arm64`, `hw:armv7-mp`, `hw:x86-invlpgb`.
    { arch: 'linux-6', archOptions: { collapseSync: 'none' }, hw: 'arm64', expect: 'caught' },
    { arch: 'linux-6', archOptions: { collapseSync: 'none' }, hw: 'armv7-mp', expect: 'caught' },
    { arch: 'linux-6', archOptions: { collapseSync: 'none' }, hw: 'x86-invlpgb', expect: 'caught' },
    // `khugepaged:linux-6` (2ba99c5e0881): the sync IPI waits the walker out.
    { arch: 'linux-6', hw: 'arm64', expect: 'clean' },
    { arch: 'linux-6', hw: 'armv7-mp', expect: 'clean' },
    { arch: 'linux-6', hw: 'x86-invlpgb', expect: 'clean' },
    // `khugepaged:linux-6` collapseSync=none on `hw:x86`: the flush IPI itself waits the walker out.
    { arch: 'linux-6', archOptions: { collapseSync: 'none' }, hw: 'x86', expect: 'clean' },
  ],
});
