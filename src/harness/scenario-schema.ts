import { z } from 'zod';
import { commandSchemas } from '../kernel/commands/index.js';
import { POLICY_OPTIONS, POLICY_REGISTRY, canonicalPolicyName, isPolicyName } from '../kernel/index.js';
import type { CoordinatorCommand, Scenario } from './scenario.js';

/**
 * The shape of a scenario, checked before anything runs: a user's scenario
 * file that fails validation gets one message naming the offending field,
 * never a failure deep inside a worker thread.
 */
const int = (min: number) => z.number().int().min(min);

/**
 * A coordinator script's commands: every kernel command (each declares its
 * own schema, src/kernel/commands/) and the harness's own (waitSteps, spin).
 */
const harnessCommands: z.ZodObject[] = [z.object({ op: z.literal('waitSteps'), steps: int(0) }).strict(), z.object({ op: z.literal('spin'), steps: int(0) }).strict()];
const coordinatorCommand = z.discriminatedUnion('op', [...commandSchemas(), ...harnessCommands] as [z.ZodObject, ...z.ZodObject[]]) as unknown as z.ZodType<CoordinatorCommand>;

/** archOptions: every option some policy declares, with the values it declares (src/kernel/policies/). */
const archOptions = z
  .object(Object.fromEntries([...POLICY_OPTIONS.values()].map((o) => [o.key, z.union(o.values.map((v) => z.literal(v))).optional()])))
  .strict();

const combination = z
  .object({
    arch: z.string().min(1),
    archOptions: archOptions.optional(),
    hw: z.string().min(1),
    /** null: no expectation (report only). */
    expect: z.enum(['caught', 'clean']).nullable(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (!c.archOptions || !isPolicyName(c.arch)) return;
    const takes = POLICY_REGISTRY[canonicalPolicyName(c.arch)].options.map((o) => o.key);
    for (const k of Object.keys(c.archOptions)) {
      if (!takes.includes(k)) ctx.addIssue({ code: 'custom', path: ['archOptions', k], message: `${c.arch} takes no option ${k}` });
    }
  });

export const scenarioSchema = z
  .object({
    name: z.string().min(1),
    title: z.string().default(''),
    description: z.string().default(''),
    domain: z.string().optional(),
    cpus: int(1).max(32).optional(),
    machine: z.record(z.string(), z.unknown()).optional(),
    batchCapacity: int(1).optional(),
    setup: z.array(coordinatorCommand),
    script: z.array(coordinatorCommand),
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
