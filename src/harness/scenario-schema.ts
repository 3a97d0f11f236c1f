import { z } from 'zod';
import { commandSchemas } from '../kernel/commands/schemas.js';
import { KERNEL_POINTS, POLICY_OPTIONS, POLICY_REGISTRY, SYSCALL_NAMES, canonicalPolicyName, isPolicyName } from '../kernel/index.js';
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
/** A kernel point: 'STEP' or 'SYSCALL/STEP' (kernel/ops.ts KERNEL_POINTS, SYSCALL_NAMES). */
export const kernelPoint = z.string().superRefine((p, ctx) => {
  const cut = p.lastIndexOf('/');
  const step = cut < 0 ? p : p.slice(cut + 1);
  const sys = cut < 0 ? null : p.slice(0, cut);
  if (!KERNEL_POINTS.some((k) => k.name === step)) ctx.addIssue({ code: 'custom', message: `no kernel point '${step}' (known: ${KERNEL_POINTS.map((k) => k.name).join(', ')})` });
  if (sys !== null && (sys === 'none' || !SYSCALL_NAMES.includes(sys))) ctx.addIssue({ code: 'custom', message: `no system call '${sys}' (known: ${SYSCALL_NAMES.slice(1).join(', ')})` });
});
const harnessCommands: z.ZodObject[] = [
  z.object({ op: z.literal('waitSteps'), steps: int(0) }).strict(),
  z.object({ op: z.literal('spin'), steps: int(0) }).strict(),
  z.object({ op: z.literal('waitPoint'), cpu: int(0), point: kernelPoint }).strict(),
  z
    .object({ op: z.literal('holdPoint'), point: kernelPoint, steps: int(0).optional(), until: z.object({ cpu: int(0), point: kernelPoint }).strict().optional(), times: int(1).optional() })
    .strict()
    .refine((h) => (h.steps === undefined) !== (h.until === undefined), { message: 'a holdPoint takes either steps or until' }),
];
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
    // Passed on as written, every key kept (a record schema would rebuild the object and drop a
    // '__proto__' key): resolveConfig names an unknown setting and checks every value.
    machine: z
      .custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), { message: 'must be an object of machine settings (see src/machine/config.ts)' })
      .optional(),
    batchCapacity: int(1).optional(),
    tableBatchAlloc: z.enum(['ok', 'fails']).optional(),
    setup: z.array(coordinatorCommand),
    script: z.array(coordinatorCommand),
    kernelCpus: z.array(z.object({ cpu: int(1).max(31), script: z.array(coordinatorCommand), then: z.enum(['idle', 'workload']).optional() }).strict()).optional(),
    workload: z.custom<Scenario['workload']>((v) => typeof v === 'function', { message: 'must be a function (cpu, cpus) => Workload' }),
    combinations: z.array(combination),
    iterations: int(1).optional(),
    sweepExempt: z.custom<Scenario['sweepExempt']>((v) => typeof v === 'function', { message: 'must be a function (knobs) => string | null' }).optional(),
    cost: z.boolean().optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    // Every CPU a script waits for must run kernel code, and not be the waiter itself.
    const kernels = new Set([0]);
    (s.kernelCpus ?? []).forEach((k, i) => {
      if (kernels.has(k.cpu)) ctx.addIssue({ code: 'custom', path: ['kernelCpus', i, 'cpu'], message: `CPU ${k.cpu} is listed twice (CPU 0 runs \`script\`)` });
      kernels.add(k.cpu);
    });
    const scripts: [number, (string | number)[], CoordinatorCommand[]][] = [[0, ['script'], s.script as CoordinatorCommand[]], ...(s.kernelCpus ?? []).map((k, i) => [k.cpu, ['kernelCpus', i, 'script'], k.script as CoordinatorCommand[]] as [number, (string | number)[], CoordinatorCommand[]])];
    for (const [self, path, script] of scripts) {
      script.forEach((c, j) => {
        const target = c.op === 'waitPoint' ? c.cpu : c.op === 'holdPoint' ? c.until?.cpu : undefined;
        if (target === undefined) return;
        if (target === self) ctx.addIssue({ code: 'custom', path: [...path, j], message: `CPU ${self} cannot wait for its own kernel point` });
        else if (!kernels.has(target)) ctx.addIssue({ code: 'custom', path: [...path, j], message: `CPU ${target} runs no kernel script, so it reaches no kernel point (kernel CPUs: ${[...kernels].join(', ')})` });
      });
    }
    (s.setup as CoordinatorCommand[]).forEach((c, j) => {
      if (c.op === 'waitPoint' || c.op === 'holdPoint') ctx.addIssue({ code: 'custom', path: ['setup', j], message: `${c.op} belongs in a script: the setup runs before the other CPUs start` });
    });
  });

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
