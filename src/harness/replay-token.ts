import type { PolicyOptions } from '../kernel/index.js';

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
  return { scenario, arch, archOptions: archOptions || undefined, hw, cpus, iteration, seed, depth, k: k < 0 ? undefined : k };
}
