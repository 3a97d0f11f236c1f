import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median, quantile } from './stats.js';

/**
 * `node dist/bench/hitpath.js [--against <root>] [--only hit|ipi] [--rounds N] [--samples N] [--steps N]`
 *
 * The two figures of the run loop's hot paths, each against its baseline in
 * the same threads: the TLB-hit access rate against a raw typed-array read
 * loop (the `hitRate` role), and the IPI round trip against a raw Atomics
 * ping-pong (src/harness/bench/ipi.ts benchIpi). Each round measures both.
 *
 * With --against, `root` is another built checkout (a directory holding
 * dist/ and node_modules/, e.g. a copy of this one before a change): each
 * round then runs the other build and this one back to back, alternating
 * which goes first, so a change is compared with its baseline under the same
 * host load. Prints per-round ratios, then medians and spread per build.
 */

interface Build {
  name: string;
  pool: { bind(m: unknown): Promise<void>; run(t: unknown[]): Promise<{ result: unknown }[]>; close(): Promise<void> };
  Machine: { create(c: object): { reset(): void; pt: { createSpace(a: number): void }; alloc: { alloc(k: number, a: number): number } } & object };
  benchIpi: (pool: unknown, o: { samples: number; rounds: number; warmup?: number }) => Promise<{ ratioP50: number; ipi: { p50Ns: number }; raw: { p50Ns: number } }>;
  map: (m: unknown, asid: number, start: number, pages: number) => void;
}

async function load(name: string, root: string): Promise<Build> {
  const url = (p: string): string => pathToFileURL(resolve(root, 'dist', p)).href;
  const poolMod = await import(url('src/harness/pool.js'));
  const machineMod = await import(url('src/machine/index.js'));
  const ipiMod = await import(url('src/harness/bench/ipi.js'));
  const setup = await import(url('bench/setup.js'));
  return { name, pool: new poolMod.CpuPool(), Machine: machineMod.Machine, benchIpi: ipiMod.benchIpi, map: setup.mapPages };
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) {
    console.error(`${name} wants a positive integer, got ${JSON.stringify(process.argv[i + 1])}`);
    process.exit(2);
  }
  return v;
}

/** One hit-rate measurement: simulated / raw accesses per second. */
async function hitRatio(b: Build, steps: number): Promise<number> {
  const m = b.Machine.create({ cpus: 2, frames: 256 });
  await b.pool.bind(m);
  m.reset();
  m.pt.createSpace(0);
  b.map(m, 0, 0, 16);
  const [hit] = await b.pool.run([{ role: 'hitRate', args: { asid: 0, pages: 16, steps, rounds: 3, seed: 7 } }]);
  const h = hit.result as { simulated: number; raw: number };
  return h.simulated / h.raw;
}

async function main(): Promise<void> {
  const rounds = arg('--rounds', 6);
  const samples = arg('--samples', 4000);
  const steps = arg('--steps', 500_000);
  const ai = process.argv.indexOf('--against');
  if (ai >= 0 && !process.argv[ai + 1]) {
    console.error('--against wants the root of another built checkout');
    process.exit(2);
  }
  const oi = process.argv.indexOf('--only');
  const only = oi >= 0 ? process.argv[oi + 1] : '';
  if (oi >= 0 && only !== 'hit' && only !== 'ipi') {
    console.error(`--only wants hit or ipi, got ${JSON.stringify(only)}`);
    process.exit(2);
  }
  const here = resolve(new URL('../..', import.meta.url).pathname);
  const builds = [await load('this', here)];
  if (ai >= 0) {
    const other = resolve(process.argv[ai + 1]);
    if (!existsSync(resolve(other, 'dist/src/harness/pool.js'))) {
      console.error(`--against ${other}: no built checkout there (dist/src/harness/pool.js is missing; run npm ci && npm run build in it)`);
      process.exit(2);
    }
    builds.unshift(await load('against', other));
  }
  const hit = new Map<string, number[]>(builds.map((b) => [b.name, []]));
  const ipi = new Map<string, number[]>(builds.map((b) => [b.name, []]));
  try {
    for (let k = 0; k < rounds; k++) {
      const order = k % 2 === 0 ? builds : [...builds].reverse();
      const line: string[] = [];
      for (const b of order) {
        const parts: string[] = [];
        if (only !== 'ipi') {
          const h = await hitRatio(b, steps);
          hit.get(b.name)!.push(h);
          parts.push(`hit ${h.toFixed(3)}`);
        }
        if (only !== 'hit') {
          const r = await b.benchIpi(b.pool, { samples, rounds: 2, warmup: 500 });
          ipi.get(b.name)!.push(r.ratioP50);
          parts.push(`ipi p50 ${r.ratioP50.toFixed(2)} (${r.ipi.p50Ns.toFixed(0)} / ${r.raw.p50Ns.toFixed(0)} ns)`);
        }
        line.push(`${b.name}: ${parts.join(', ')}`);
      }
      console.log(`round ${k + 1}: ${line.join('; ')}`);
    }
  } finally {
    for (const b of builds) await b.pool.close();
  }
  const spread = (xs: number[], d: number): string => `median ${median(xs).toFixed(d)} [${quantile(xs, 0).toFixed(d)} .. ${quantile(xs, 1).toFixed(d)}]`;
  for (const b of builds) {
    const parts: string[] = [];
    if (only !== 'ipi') parts.push(`TLB-hit / raw read ${spread(hit.get(b.name)!, 3)}`);
    if (only !== 'hit') parts.push(`IPI / raw ping-pong p50 ${spread(ipi.get(b.name)!, 2)}`);
    console.log(`${b.name}: ${parts.join('; ')}`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(3);
});
