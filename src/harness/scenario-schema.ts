import { z } from 'zod';
import type { Scenario } from './scenario.js';

/**
 * The shape of a scenario, checked before anything runs: a user's scenario
 * file that fails validation gets one message naming the offending field,
 * never a failure deep inside a worker thread.
 */
const int = (min: number) => z.number().int().min(min);
const vpn = int(0);
const pages = int(1);

const kernelCommand = z.discriminatedUnion('op', [
  z.object({ op: z.literal('createMm'), asid: int(0), pendingWord: int(0).optional() }).strict(),
  z
    .object({ op: z.literal('attachMm'), asid: int(0), vmas: z.array(z.object({ start: vpn, end: vpn }).passthrough()), pendingWord: int(0).optional() })
    .strict(),
  z
    .object({
      op: z.literal('mmap'),
      asid: int(0),
      start: vpn,
      pages,
      exec: z.boolean().optional(),
      write: z.boolean().optional(),
      huge: z.boolean().optional(),
      pfnmap: z.boolean().optional(),
      fault: z.boolean().optional(),
    })
    .strict(),
  z.object({ op: z.literal('fault'), asid: int(0), start: vpn, end: vpn }).strict(),
  z.object({ op: z.literal('switchMm'), asid: int(0) }).strict(),
  z.object({ op: z.literal('munmap'), asid: int(0), start: vpn, end: vpn }).strict(),
  z.object({ op: z.literal('madvise'), asid: int(0), start: vpn, end: vpn }).strict(),
  z.object({ op: z.literal('shiftArgPages'), asid: int(0), vmaStart: vpn, shift: pages }).strict(),
  z.object({ op: z.literal('exitMmap'), asid: int(0), freePgd: z.boolean().optional() }).strict(),
  z.object({ op: z.literal('waitSteps'), steps: int(0) }).strict(),
  z.object({ op: z.literal('spin'), steps: int(0) }).strict(),
]);

const combination = z
  .object({
    arch: z.string().min(1),
    archOptions: z
      .object({ itlb: z.enum(['vma-exec', 'always']).optional(), fastMode: z.boolean().optional(), nested: z.enum(['full', 'range-drops-freed-tables']).optional() })
      .strict()
      .optional(),
    hw: z.string().min(1),
    /** null: no expectation (report only). */
    expect: z.enum(['caught', 'clean']).nullable(),
  })
  .strict();

export const scenarioSchema = z
  .object({
    name: z.string().min(1),
    title: z.string().default(''),
    description: z.string().default(''),
    domain: z.string().optional(),
    cpus: int(1).max(32).optional(),
    machine: z.record(z.string(), z.unknown()).optional(),
    batchCapacity: int(1).optional(),
    setup: z.array(kernelCommand),
    script: z.array(kernelCommand),
    workload: z.custom<Scenario['workload']>((v) => typeof v === 'function', { message: 'must be a function (cpu, cpus) => Workload' }),
    combinations: z.array(combination),
    iterations: int(1).optional(),
    cost: z.boolean().optional(),
  })
  .strict();

/** A scenario that is not one: `usage` marks it as the user's input error. */
export class ScenarioError extends Error {
  readonly usage = true;
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioError';
  }
}

/** Validate `x` as a scenario; the error names the first offending field. */
export function parseScenario(x: unknown, source: string): Scenario {
  const r = scenarioSchema.safeParse(x);
  if (r.success) return r.data as Scenario;
  const issue = r.error.issues[0];
  const path = issue.path.length ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : '(the export itself)';
  throw new ScenarioError(`scenario ${source}: ${path}: ${issue.message}`);
}
