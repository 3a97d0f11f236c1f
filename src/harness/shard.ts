import { ScenarioError } from './scenario-schema.js';

/**
 * A campaign split into n shards that separate processes (or machines) run,
 * and `smpsim merge` adds up again.
 *
 * The partition: iteration i (from 0) of every combination belongs to shard
 * (i mod n) + 1. A shard runs its iterations under the index and the seed
 * (`iterationSeed(seed, i)`) they have in the unsharded run, so the n shards
 * together run exactly the unsharded run's iterations, each once, and a
 * violation carries the iteration index the unsharded run would report.
 * Striding (rather than contiguous blocks) needs no count of the whole:
 * a campaign run by time (--duration) shards too, and the early iterations,
 * where a frequent race shows first, are spread over every shard.
 */
export interface Shard {
  /** This shard, from 1. */
  k: number;
  /** Shards in the campaign. */
  n: number;
}

/** Whether iteration `it` belongs to shard `s` (every iteration belongs to an unsharded run). */
export function ownsIteration(s: Shard | undefined, it: number): boolean {
  return s === undefined || it % s.n === s.k - 1;
}

/** How many of the first `iterations` iterations shard `s` owns (Infinity stays Infinity). */
export function shardIterations(s: Shard | undefined, iterations: number): number {
  if (s === undefined || !Number.isFinite(iterations)) return iterations;
  return Math.max(0, Math.ceil((iterations - (s.k - 1)) / s.n));
}

/** "2/4". */
export function shardLabel(s: Shard): string {
  return `${s.k}/${s.n}`;
}

/**
 * Refuse, as the user's error, a shard that is no shard (k outside 1..n) or
 * one that would own no iteration (fewer iterations than shards).
 */
export function checkShard(s: Shard, iterations: number): void {
  if (!Number.isSafeInteger(s.k) || !Number.isSafeInteger(s.n) || s.n < 1 || s.k < 1 || s.k > s.n) throw new ScenarioError(`shard ${s.k}/${s.n}: K/N needs whole numbers with 1 <= K <= N`);
  if (iterations < s.n) throw new ScenarioError(`shard ${shardLabel(s)}: ${iterations} iterations per combination cannot be split into ${s.n} shards: each shard needs one at least`);
}
