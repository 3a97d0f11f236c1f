import { InvalidArgumentError } from 'commander';
import { MAX_PCT_DEPTH } from '../harness/pct.js';
import { MAX_CPUS } from '../machine/config.js';

/**
 * Option value parsers for commander: each returns the parsed value or throws
 * InvalidArgumentError, which commander reports as one line (exit code 2).
 */

function integer(v: string, what: string): number {
  const m = /^([+-]?)(\d+|0x[0-9a-f]+)$/i.exec(v.trim());
  if (!m) throw new InvalidArgumentError(`${what} must be an integer.`);
  const n = Number(m[2]) * (m[1] === '-' ? -1 : 1);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`${what} is too large.`);
  return n;
}

export function parseCpus(v: string): number {
  const n = integer(v, 'CPUs');
  if (n < 1 || n > MAX_CPUS) throw new InvalidArgumentError(`CPUs must be between 1 and ${MAX_CPUS}.`);
  return n;
}

export function parseIterations(v: string): number {
  const n = integer(v, 'iterations');
  if (n < 1) throw new InvalidArgumentError('iterations must be a positive integer.');
  return n;
}

export function parseSeed(v: string): number {
  const n = integer(v, 'seed');
  if (n < 0 || n > 0xffff_ffff) throw new InvalidArgumentError('seed must be an integer from 0 to 4294967295.');
  return n;
}

export function parseDepth(v: string): number {
  const n = integer(v, 'depth');
  if (n < 1 || n > MAX_PCT_DEPTH) throw new InvalidArgumentError(`depth must be an integer from 1 to ${MAX_PCT_DEPTH}.`);
  return n;
}

/** "2/4" → { k: 2, n: 4 }: shard K of N, 1 <= K <= N (iterations per combination >= N is checked with the scenario). */
export function parseShard(v: string): { k: number; n: number } {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(v);
  if (!m) throw new InvalidArgumentError('shard must be K/N, two whole numbers like 2/4 (the second of four shards).');
  const [k, n] = [Number(m[1]), Number(m[2])];
  if (!Number.isSafeInteger(k) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('shard is too large.');
  if (n < 1) throw new InvalidArgumentError('shard K/N needs N of at least 1.');
  if (k < 1 || k > n) throw new InvalidArgumentError(`shard K/N needs K from 1 to N (here from 1 to ${n}).`);
  return { k, n };
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "500ms", "10s", "2m", "1.5s", "1h" → milliseconds. A unit is required. */
export function parseDuration(v: string): number {
  // Spaces may part the number from its unit; a line break may not (the value was mangled).
  const m = /^(\d+(?:\.\d+)?|\.\d+)[ \t]*(ms|s|m|h)$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError('duration must be a number with a unit, like 500ms, 10s, 2m or 1h.');
  const ms = Number(m[1]) * UNIT_MS[m[2]];
  if (!(ms >= 1)) throw new InvalidArgumentError('duration must be at least 1ms.');
  return ms;
}

/** "1234.5 ms" → "1.23 s" etc., for tables. */
export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '-';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** A time bound that can be turned off: a duration (500ms, 5s, 1m), or 0 / off / none. */
export function parseBound(v: string): number {
  if (/^\s*(0|off|none)\s*$/i.test(v)) return 0;
  try {
    return parseDuration(v);
  } catch {
    throw new InvalidArgumentError('must be a duration with a unit (500ms, 5s, 1m), or off.');
  }
}
