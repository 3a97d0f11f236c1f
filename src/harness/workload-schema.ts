import { z } from 'zod';
import { OP_NAMES, type Workload } from '../machine/workload.js';

/**
 * A CPU's workload, checked before any thread runs: strict (an unknown key
 * is named and refused), every number of the right kind and range. What the
 * scenario's workload function returns for each CPU is checked against it;
 * the machine's own checks (compileWorkload) then see only sound values.
 */
const int = (min: number) => z.number().int().min(min);
const range = z
  .object({ start: int(0), pages: int(1), write: z.boolean().optional(), exec: z.boolean().optional() })
  .strict();
const mix = z.object(Object.fromEntries(OP_NAMES.map((n) => [n, z.number().min(0).finite().optional()]))).strict();

export const workloadSchema = z
  .object({
    spaces: z.array(int(0)).min(1, 'name at least one address space'),
    ranges: z.array(range).min(1, 'hold at least one range'),
    mix: mix.optional(),
    irqOffSteps: int(1).optional(),
    idleSteps: int(1).optional(),
    gupGap: int(0).optional(),
    gupPages: int(1).optional(),
    speculation: z.number().min(0).max(1).optional(),
    steps: int(1).optional(),
  })
  .strict();

/** The first problem with `w` as "field: message", or null when it is a sound workload. */
export function workloadProblem(w: unknown): string | null {
  const r = workloadSchema.safeParse(w);
  if (r.success) return null;
  const issue = r.error.issues[0];
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  return `${path || '(the workload)'}: ${issue.message}`;
}

export type { Workload };
