import type { Scenario } from 'smpsim';

// The race of gup-fast-vs-table-free (see that file for what it models), shared
// with invlpgb-gup-fast. In a module of its own that imports smpsim for types
// only: a scenario module imports 'smpsim' at run time, whose entry loads the
// registry of every scenario, so one scenario importing values from another
// would read them before they exist when a program imports that other
// scenario first.
const REGION = { start: 64, pages: 128 };
const END = REGION.start + REGION.pages;

/**
 * The race's machine, scripts and workload, shared with invlpgb-gup-fast
 * (the same race on x86 with and without broadcast invalidation).
 */
export const gupFastRace = {
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
    { op: 'munmap', asid: 0, start: REGION.start, end: END },
    { op: 'mmap', asid: 0, start: REGION.start, pages: REGION.pages, write: true },
    { op: 'waitSteps', steps: 1200 },
    { op: 'munmap', asid: 0, start: REGION.start, end: END },
  ],
  // Nothing but gup_fast: no load or store through the TLB, so the only walkers that can meet a
  // freed table are gup_fast and the flavour's speculative walks. The idle spans are there for the
  // run loop: it looks at the stop flag only every `quantum` steps and only outside a gup_fast walk,
  // so a stream of walks of one length can miss it for ever (see the report).
  workload: () => ({ spaces: [0], ranges: [REGION], mix: { load: 0, store: 0, fetch: 0, gupFast: 4, idle: 1 }, gupGap: 256 }),
} satisfies Partial<Scenario>;
