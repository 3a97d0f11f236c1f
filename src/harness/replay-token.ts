import { z } from 'zod';
import { POLICY_REGISTRY, type PolicyOptions, canonicalPolicyName, isPolicyName, policyNames } from '../kernel/index.js';
import { MAX_CPUS } from '../machine/config.js';
import { FLAVOURS, flavourNames } from '../machine/flavours.js';
import { G } from '../machine/layout.js';
import { MAX_PCT_DEPTH, type PctSchedule, pctSchedule } from './pct.js';

/**
 * Everything that fixes one controlled iteration. Two token versions:
 *  - `smp1.` (still decoded): the schedule as PCT draws it, (seed, depth, k);
 *  - `smp2.` (minted): the schedule written out (priorities per CPU, change
 *    points), the workload step budget and the CPU count, so a shrunk
 *    schedule (shrink.ts), which PCT would never draw, replays too; and a
 *    scenario file named relative to the working directory with a sha256
 *    prefix of its bytes, so a moved or edited file is refused, never
 *    replayed as something else.
 */
export interface ReplaySpec {
  /** Registered scenario name, or scenario file path (smp2: relative to the working directory when minted). */
  scenario: string;
  /** A scenario file's sha256 prefix (hex), when the token names a file (smp2). */
  scenarioSha256?: string;
  arch: string;
  archOptions?: PolicyOptions;
  hw: string;
  cpus: number;
  iteration: number;
  /** The iteration's seed (workload streams; smp1: the PCT schedule too). */
  seed: number;
  /** PCT depth the schedule was drawn with (smp1; informative in smp2). */
  depth: number;
  /** smp1: PCT step estimate; undefined for the calibrating iteration (no change points). */
  k?: number;
  /** The gate's schedule: smp2 carries it; for smp1 it is drawn from (seed, depth, k) at decode time. */
  schedule?: PctSchedule;
  /** Steps each workload CPU runs before it idles (default: the runner's, PCT_WORKLOAD_STEPS or more). */
  budget?: number;
}

const V1 = 'smp1.';
const V2 = 'smp2.';

/** How many hex digits of a scenario file's sha256 a token carries. */
export const TOKEN_SHA_DIGITS = 16;

/** The schedule a spec replays with: its own, else PCT's draw from (seed, depth, k) as the runner makes it. */
export function scheduleOf(r: Pick<ReplaySpec, 'seed' | 'cpus' | 'depth' | 'k' | 'schedule'>): PctSchedule {
  if (r.schedule) return r.schedule;
  return r.k === undefined ? { priorities: pctSchedule(r.seed, r.cpus, r.depth, 1).priorities, changes: [] } : pctSchedule(r.seed, r.cpus, r.depth, r.k);
}

/** A token short enough to paste: "smp2." + base64url of compact JSON, the schedule written out. */
export function encodeReplay(r: ReplaySpec): string {
  const s = scheduleOf(r);
  const doc: Record<string, unknown> = {
    s: r.scenarioSha256 ? [r.scenario, r.scenarioSha256] : r.scenario,
    a: r.arch,
    h: r.hw,
    c: r.cpus,
    i: r.iteration,
    e: r.seed,
    d: r.depth,
    p: s.priorities,
    x: s.changes,
  };
  if (r.archOptions && Object.keys(r.archOptions).length) doc.o = r.archOptions;
  if (r.budget !== undefined) doc.b = r.budget;
  return V2 + Buffer.from(JSON.stringify(doc)).toString('base64url');
}

/** Thrown for a token that does not decode. */
export class BadTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadTokenError';
  }
}

const int = z.number().int();
const V2_SCHEMA = z
  .object({
    s: z.union([z.string(), z.tuple([z.string(), z.string().regex(/^[0-9a-f]{8,64}$/)])]),
    a: z.string(),
    o: z.unknown().optional(),
    h: z.string(),
    c: int,
    i: int,
    e: int,
    d: int,
    p: z.array(int),
    x: z.array(int),
    b: int.optional(),
  })
  .strict();

export function decodeReplay(token: string): ReplaySpec {
  if (token.startsWith(V2)) return decodeV2(token.slice(V2.length));
  if (!token.startsWith(V1)) throw new BadTokenError(`not a replay token (it should start with '${V2}' or '${V1}'): ${token.slice(0, 20)}`);
  const a = parseJson(token.slice(V1.length));
  const ok =
    Array.isArray(a) &&
    a.length === 9 &&
    typeof a[0] === 'string' &&
    typeof a[1] === 'string' &&
    typeof a[3] === 'string' &&
    [4, 5, 6, 7, 8].every((i) => Number.isInteger(a[i]));
  if (!ok) throw new BadTokenError('replay token is damaged (unexpected content)');
  const [scenario, arch, archOptions, hw, cpus, iteration, seed, depth, k] = a as [string, string, PolicyOptions | 0, string, number, number, number, number, number];
  // -1, and only -1, stands for "no step estimate" (smp1's encoding); any other k is checked as one.
  const spec: ReplaySpec = { scenario, arch, archOptions: archOptions || undefined, hw, cpus, iteration, seed, depth, k: k === -1 ? undefined : k };
  validateReplay(spec, archOptions);
  return spec;
}

function parseJson(body: string): unknown {
  const bytes = Buffer.from(body, 'base64url');
  // base64url decoding skips what is not base64 and the unused low bits of
  // the last character: a token that does not encode back to itself was
  // altered, even if what it decodes to still makes sense.
  if (bytes.toString('base64url') !== body) throw new BadTokenError('replay token is damaged (it is not as smpsim wrote it)');
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new BadTokenError('replay token is damaged (it does not decode)');
  }
}

function decodeV2(body: string): ReplaySpec {
  const parsed = V2_SCHEMA.safeParse(parseJson(body));
  if (!parsed.success) throw new BadTokenError('replay token is damaged (unexpected content)');
  const t = parsed.data;
  const [scenario, sha] = typeof t.s === 'string' ? [t.s, undefined] : t.s;
  const spec: ReplaySpec = {
    scenario,
    ...(sha ? { scenarioSha256: sha } : {}),
    arch: t.a,
    archOptions: (t.o as PolicyOptions | undefined) ?? undefined,
    hw: t.h,
    cpus: t.c,
    iteration: t.i,
    seed: t.e,
    depth: t.d,
    schedule: { priorities: t.p, changes: t.x },
    ...(t.b !== undefined ? { budget: t.b } : {}),
  };
  if (spec.archOptions === undefined) delete spec.archOptions;
  validateReplay(spec, t.o === undefined ? 0 : t.o);
  return spec;
}

/**
 * Every field of a decoded token, checked as the same field is on the
 * command line (policy, its options, hardware, CPUs, seed, depth, schedule):
 * a token that was altered or damaged is refused with one line naming the
 * field, never replayed as something else or crashed on.
 */
function validateReplay(s: ReplaySpec, rawOptions: unknown): void {
  const bad = (what: string): never => {
    throw new BadTokenError(`replay token is damaged: ${what}`);
  };
  if (!s.scenario.trim()) bad('it names no scenario');
  if (!isPolicyName(s.arch)) bad(`policy '${s.arch}' is not one smpsim has (known: ${policyNames().join(', ')})`);
  if (rawOptions !== 0 && (typeof rawOptions !== 'object' || rawOptions === null || Array.isArray(rawOptions))) bad('the policy options are not an object');
  const specs = POLICY_REGISTRY[canonicalPolicyName(s.arch)].options;
  for (const [key, value] of Object.entries(s.archOptions ?? {})) {
    const o = specs.find((x) => x.key === key);
    if (!o) bad(`${s.arch} takes no option ${key}`);
    else if (!(o.values as readonly unknown[]).includes(value)) bad(`option ${key} of ${s.arch} is ${JSON.stringify(value)}, not one of ${o.values.join(', ')}`);
  }
  if (!Object.hasOwn(FLAVOURS, s.hw)) bad(`hardware '${s.hw}' is not a flavour smpsim has (known: ${flavourNames().join(', ')})`);
  if (s.cpus < 1 || s.cpus > MAX_CPUS) bad(`${s.cpus} CPUs (from 1 to ${MAX_CPUS})`);
  if (s.iteration < 0 || !Number.isSafeInteger(s.iteration)) bad(`iteration ${s.iteration} (a non-negative integer)`);
  if (s.seed < 0 || s.seed > 0xffff_ffff) bad(`seed ${s.seed} (from 0 to 4294967295)`);
  if (s.depth < 1 || s.depth > MAX_PCT_DEPTH) bad(`depth ${s.depth} (from 1 to ${MAX_PCT_DEPTH})`);
  if (s.k !== undefined && (s.k < 1 || !Number.isSafeInteger(s.k))) bad(`step estimate ${s.k} (a positive integer)`);
  if (s.schedule) {
    const { priorities, changes } = s.schedule;
    if (priorities.length !== s.cpus) bad(`${priorities.length} priorities for ${s.cpus} CPUs`);
    // The gate compares priorities; change point i lowers a thread to i + 1, below every initial one.
    if (priorities.some((p) => p <= changes.length || p > 1_000_000) || new Set(priorities).size !== priorities.length) bad(`priorities ${priorities.join(',')} (distinct, each above the ${changes.length} change points)`);
    if (changes.length > G.MAX_CHANGES) bad(`${changes.length} change points (at most ${G.MAX_CHANGES})`);
    if (changes.some((c) => c < 1)) bad(`change point ${changes.find((c) => c < 1)} (a positive step)`);
  }
  if (s.budget !== undefined && (s.budget < 1 || s.budget > 10_000_000)) bad(`workload step budget ${s.budget} (from 1 to 10000000)`);
}
