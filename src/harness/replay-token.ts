import { POLICY_REGISTRY, type PolicyOptions, canonicalPolicyName, isPolicyName, policyNames } from '../kernel/index.js';
import { MAX_CPUS } from '../machine/config.js';
import { FLAVOURS, flavourNames } from '../machine/flavours.js';
import { MAX_PCT_DEPTH } from './pct.js';

/** Everything that fixes one controlled iteration. */
export interface ReplaySpec {
  /** Registered scenario name or scenario file path. */
  scenario: string;
  arch: string;
  archOptions?: PolicyOptions;
  hw: string;
  cpus: number;
  iteration: number;
  /** The iteration's seed (workload streams and PCT schedule). */
  seed: number;
  depth: number;
  /** PCT step estimate; undefined for the calibrating iteration (no change points). */
  k?: number;
}

const PREFIX = 'smp1.';

/** A token short enough to paste: "smp1." + base64url of a compact JSON array. */
export function encodeReplay(r: ReplaySpec): string {
  const a = [r.scenario, r.arch, r.archOptions && Object.keys(r.archOptions).length ? r.archOptions : 0, r.hw, r.cpus, r.iteration, r.seed, r.depth, r.k ?? -1];
  return PREFIX + Buffer.from(JSON.stringify(a)).toString('base64url');
}

/** Thrown for a token that does not decode. */
export class BadTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadTokenError';
  }
}

export function decodeReplay(token: string): ReplaySpec {
  if (!token.startsWith(PREFIX)) throw new BadTokenError(`not a replay token (it should start with '${PREFIX}'): ${token.slice(0, 20)}`);
  let a: unknown;
  try {
    a = JSON.parse(Buffer.from(token.slice(PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    throw new BadTokenError('replay token is damaged (it does not decode)');
  }
  const ok =
    Array.isArray(a) &&
    a.length === 9 &&
    typeof a[0] === 'string' &&
    typeof a[1] === 'string' &&
    typeof a[3] === 'string' &&
    [4, 5, 6, 7, 8].every((i) => Number.isInteger(a[i]));
  if (!ok) throw new BadTokenError('replay token is damaged (unexpected content)');
  const [scenario, arch, archOptions, hw, cpus, iteration, seed, depth, k] = a as [string, string, PolicyOptions | 0, string, number, number, number, number, number];
  // -1, and only -1, stands for "no step estimate" (encodeReplay); any other k is checked as one.
  const spec: ReplaySpec = { scenario, arch, archOptions: archOptions || undefined, hw, cpus, iteration, seed, depth, k: k === -1 ? undefined : k };
  validateReplay(spec, archOptions);
  return spec;
}

/**
 * Every field of a decoded token, checked as the same field is on the
 * command line (policy, its options, hardware, CPUs, seed, depth): a token
 * that was altered or damaged is refused with one line naming the field,
 * never replayed as something else or crashed on.
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
}
