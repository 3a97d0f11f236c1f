import { FlushKind, Which } from '../../machine/constants.js';
import type { Cpu } from '../../machine/cpu.js';
import { H } from '../../machine/layout.js';
import type { Machine } from '../../machine/machine.js';
import { Rng, cpuSeed } from '../../machine/rng.js';
import { runWorkload } from '../../machine/runloop.js';
import { compileWorkload } from '../../machine/workload.js';

/**
 * Roles for benchmarks: each measurement and its baseline run in the same
 * threads of the same process, so the ratio between them is what counts.
 */

const PING = H.SCRATCH;
const PONG = H.SCRATCH + 1;

/** Raw Atomics ping-pong, client side: returns round-trip times in ns. */
export function rawPingClient(_cpu: Cpu, machine: Machine, a: { samples: number; warmup: number }): number[] {
  const i32 = machine.i32;
  const out: number[] = [];
  for (let i = 1; i <= a.samples + a.warmup; i++) {
    const t0 = performance.now();
    Atomics.store(i32, PING, i);
    while (Atomics.load(i32, PONG) !== i);
    const t1 = performance.now();
    if (i > a.warmup) out.push((t1 - t0) * 1e6);
  }
  Atomics.store(i32, PING, -1);
  return out;
}

/** Raw Atomics ping-pong, server side: echo PING into PONG until PING is -1. */
export function rawPingServer(_cpu: Cpu, machine: Machine): number {
  const i32 = machine.i32;
  let last = 0;
  let n = 0;
  for (;;) {
    const v = Atomics.load(i32, PING);
    if (v === last) continue;
    if (v === -1) return n;
    Atomics.store(i32, PONG, v);
    last = v;
    n++;
  }
}

/**
 * IPI round trips from this CPU to `target`, which is in its run loop: post,
 * handle at the target's next instruction boundary, acknowledge. Each IPI
 * asks for a one-page flush of an address nobody uses. Returns ns per sample.
 */
export function ipiSender(cpu: Cpu, machine: Machine, a: { target: number; samples: number; warmup: number }): number[] {
  const out: number[] = [];
  const r = { kind: FlushKind.RANGE, asid: 0, start: machine.layout.vpnLimit - 1, end: machine.layout.vpnLimit, which: Which.DTLB };
  for (let i = 0; i < a.samples + a.warmup; i++) {
    const t0 = performance.now();
    cpu.ipiMany(1 << a.target, r);
    const t1 = performance.now();
    if (i >= a.warmup) out.push((t1 - t0) * 1e6);
  }
  machine.requestStop();
  return out;
}

/**
 * TLB-hit accesses in the run loop beside a raw typed-array read loop drawing
 * its indexes from the same generator, in this thread, in alternating rounds
 * (so that both see the same host conditions). Returns both rates
 * (operations per second).
 */
export function hitRate(cpu: Cpu, machine: Machine, a: { asid: number; pages: number; steps: number; rounds: number; seed: number }): { simulated: number; raw: number; hits: number; accesses: number } {
  const w = compileWorkload({ spaces: [a.asid], ranges: [{ start: 0, pages: a.pages }], mix: { load: 1, store: 0, fetch: 0 }, steps: a.steps }, 0, machine.layout.vpnLimit);
  const i32 = machine.i32;
  const words = machine.layout.W;
  const base = machine.layout.contents;
  let sink = 0;
  const raw = (n: number, seed: number): void => {
    const rng = new Rng(seed);
    for (let i = 0; i < n; i++) {
      const r = rng.next();
      const page = rng.below(a.pages);
      sink ^= i32[base + page * words + (r & (words - 1))];
    }
  };
  // Warm up both loops (JIT), then measure in alternating rounds.
  runWorkload(cpu, { ...w, steps: 200_000 }, new Rng(a.seed));
  raw(200_000, a.seed);
  const hits0 = cpu.count('dtlbHits');
  let tSim = 0;
  let tRaw = 0;
  for (let k = 0; k < a.rounds; k++) {
    let t0 = performance.now();
    runWorkload(cpu, w, new Rng(cpuSeed(a.seed, k)));
    tSim += performance.now() - t0;
    t0 = performance.now();
    raw(a.steps, cpuSeed(a.seed, k));
    tRaw += performance.now() - t0;
  }
  const n = a.steps * a.rounds;
  cpu.sink ^= sink;
  return { simulated: n / (tSim / 1000), raw: n / (tRaw / 1000), hits: cpu.count('dtlbHits') - hits0, accesses: n };
}
