import { Access, type AccessCode, CpuOp } from './constants.js';
import { AccessResult, type Cpu, NOT_HIT } from './cpu.js';
import { IpiState } from './ipi.js';
import { H, K } from './layout.js';
import { Ev } from './recorder.js';
import type { Rng } from './rng.js';
import type { CompiledWorkload } from './workload.js';
import type { Gate } from './gate.js';

const OP_LOAD = Access.LOAD;
const OP_STORE = Access.STORE;
const OP_FETCH = Access.FETCH;
const OP_IRQ_OFF = 3;
const OP_SWITCH = 4;
const OP_GUP = 5;
const OP_IDLE = 6;

/**
 * Odds (1 in 2^n per step, when another CPU thread waits for a host core)
 * that a CPU stalls inside a window: between two levels of a gup_fast walk
 * (a few steps per walk: often), and at a step with interrupts off (spans
 * are tens of steps: now and then). See cores.ts.
 */
const GUP_WINDOW_ODDS = 1;
/**
 * Without the gate (a host core per CPU thread) a gup_fast walk stalls
 * between every two levels, for 1 to GUP_STALL_MAX_US µs. A table free must
 * land inside a walk to be caught, and a collapse or an unmap takes hundreds
 * of microseconds: measured on khugepaged-vs-gup-fast at 2 CPUs (60
 * iterations each), stalls at 1 in 4 boundaries of up to 256 µs caught
 * 37-52% of the iterations of its three combinations, these 78-83%.
 */
const GUP_STALL_ODDS = 0;
const GUP_STALL_MAX_US = 512;
/**
 * Under the gate the walker's stall is off every core (cores.ts park), so it
 * costs the host nothing and may be longer: khugepaged-vs-gup-fast at 3 CPUs
 * (60 iterations each) was caught in 48-62% of iterations with 512 µs,
 * 52-72% with 1024 µs (two runs).
 */
const GUP_PARK_MAX_US = 1024;
/**
 * Under the gate with no CPU thread queued (the kernel asleep in one of its
 * waits, the other walkers on cores), a walker still stalls at 1 in 2^n of
 * its level boundaries, off its core, for up to GUP_STALL_MAX_US. Without
 * it a walker stalled only when someone was queued, and at 3 CPUs, where the
 * kernel often sleeps, khugepaged-vs-gup-fast was caught in about 55% of
 * iterations (60 each, its three caught combinations). Measured at 3 CPUs:
 * n = 0 (every boundary) caught 90-97% but made the clean combinations 3x
 * slower (27-32 against 68-95 iterations/s); n = 1 catches 78-88% with
 * them at 51-66/s.
 */
const GUP_FREE_ODDS = 1;
const IRQ_OFF_WINDOW_ODDS = 5;

/**
 * Pick a page from flattened (start, pages) pairs, uniformly over the pages.
 * The access path inlines the one-range case (the same single draw).
 */
function pickPage(ranges: number[], rng: Rng): number {
  if (ranges.length === 2) return ranges[0] + rng.below(ranges[1]);
  let total = 0;
  for (let i = 1; i < ranges.length; i += 2) total += ranges[i];
  let k = rng.below(total);
  for (let i = 0; i < ranges.length; i += 2) {
    if (k < ranges[i + 1]) return ranges[i] + k;
    k -= ranges[i + 1];
  }
  return ranges[0];
}

/** Add the run loop's batched counts of completed TLB hits to the CPU's counters. */
function publishHits(cpu: Cpu, loads: number, stores: number, fetches: number): void {
  if (loads !== 0) cpu.countHits(Access.LOAD, loads, loads);
  if (stores !== 0) cpu.countHits(Access.STORE, stores, stores);
  if (fetches !== 0) cpu.countHits(Access.FETCH, fetches, fetches);
}

/**
 * A CPU's run loop: draw an operation per step from the seeded stream and
 * execute it. At every step boundary with interrupts enabled it takes pending
 * IPIs; every `quantum` steps (and between the steps of a gup_fast walk) it
 * passes a quiescence point and looks at the stop flag. Multi-step operations
 * (interrupts-off spans, gup_fast, idle) always complete before it returns, so
 * a CPU never leaves an iteration with interrupts disabled.
 *
 * The TLB-hit access is the hot path (tens of nanoseconds a step at most).
 * The steps run in slices of a quantum (runSlice), so that the JIT compiles
 * the step loop as an ordinary function called again and again rather than
 * by on-stack replacement of one long loop, and inlines the hit itself
 * (Cpu.hit) into it. The counts of hits that completed are batched and added
 * to the CPU's counters at every quantum boundary and when the loop ends, so
 * they are exact once runWorkload returns or throws; nothing reads them
 * while the CPU runs (the watchdog and waitSteps read stepNow, published at
 * every quiescence point).
 *
 * Returns the number of steps executed.
 */
export function runWorkload(cpu: Cpu, w: CompiledWorkload, rng: Rng): number {
  cpu.lazyAsid = -1;
  if (cpu.asid !== w.spaces[0]) cpu.switchMm(w.spaces[0]);
  cpu.resume();
  const run = new Run(cpu, w, rng);
  try {
    while (runSlice(run));
  } finally {
    publishHits(cpu, run.hitLoads, run.hitStores, run.hitFetches);
  }
  cpu.op = CpuOp.NONE;
  // An aborted iteration may end inside an idle period.
  cpu.leaveLazy();
  if (!cpu.irq) cpu.setIrq(true);
  cpu.boundary();
  cpu.quiesce();
  return run.steps;
}

/** What the run loop carries from one slice of steps to the next (runSlice keeps it in locals meanwhile). */
class Run {
  readonly gate: Gate | null;
  readonly quantum: number;
  q = 0;
  irqOffLeft = 0;
  idleLeft = 0;
  steps = 0;
  gupGapLeft = 0;
  stopping = false;
  // Controlled runs: past its step budget a CPU goes on accessing memory in
  // the background, but a background step counts as progress only if it
  // changed something another thread can wait on (an IPI taken, interrupts
  // re-enabled, a gup_fast walk advanced). So it runs one step whenever
  // another thread has made progress and it has the higher priority, and
  // never keeps the run alive on its own.
  background = false;
  progressed = false;
  /** TLB hits that completed, by access type, not yet in the CPU's counters. */
  hitLoads = 0;
  hitStores = 0;
  hitFetches = 0;

  constructor(
    readonly cpu: Cpu,
    readonly w: CompiledWorkload,
    readonly rng: Rng,
  ) {
    this.gate = cpu.gate.controlling ? cpu.gate : null;
    this.quantum = cpu.L.cfg.quantum;
  }
}

/**
 * Run steps up to the end of the next step that passes a quantum boundary;
 * returns false when the loop is over (stopped, budget done, or aborted).
 * One step is, in this order: the controlled run's turn; the quantum
 * boundary, if due; the exit checks; the IPI poll; then the step itself (a
 * piece of a multi-step operation, or a new operation drawn from the stream).
 */
function runSlice(run: Run): boolean {
  const cpu = run.cpu;
  const w = run.w;
  const rng = run.rng;
  const gate = run.gate;
  const quantum = run.quantum;
  const i32 = cpu.i32;
  const W = cpu.L.W;
  const cum = w.cumulative;
  const reads = w.readRanges;
  const writes = w.writeRanges;
  const execs = w.execRanges;
  const spec = w.speculation;
  const inbox = cpu.inboxAt;
  const rec = cpu.rec;
  const cores = cpu.cores;
  const limit = w.steps;
  let q = run.q;
  let irqOffLeft = run.irqOffLeft;
  let idleLeft = run.idleLeft;
  let steps = run.steps;
  let gupGapLeft = run.gupGapLeft;
  let stopping = run.stopping;
  let background = run.background;
  let progressed = run.progressed;
  let hitLoads = run.hitLoads;
  let hitStores = run.hitStores;
  let hitFetches = run.hitFetches;
  // Whether the loop goes on after this slice, and whether this slice passed its quantum boundary.
  let more = true;
  let passed = false;
  try {
    for (;;) {
      // The step that passed the boundary is complete: the slice ends.
      if (passed) break;
      // Under a controlled run's gate every step is one turn.
      if (gate !== null) {
        // Once the run is stopping, every step heads for the exit: progress. So
        // is every step while a broadcast initiator waits for this CPU's next
        // quiescence point: that wait ends only through these steps.
        gate.point(!background || progressed || Atomics.load(i32, H.STOP) !== 0 || cpu.watched());
        progressed = false;
      }
      if (++q >= quantum) {
        q = 0;
        passed = true;
        publishHits(cpu, hitLoads, hitStores, hitFetches);
        hitLoads = hitStores = hitFetches = 0;
        // Host-core gate (cores.ts): the slice is used up and another CPU thread waits for a core.
        if (cores.sliceDue(quantum)) cpu.handOverCoreInterruptible();
        // A broadcast initiator waiting for this boundary has been released: progress.
        if (cpu.boundary()) progressed = true;
        // The sequentially consistent poll: see below.
        if (cpu.irq && (Atomics.load(i32, inbox) & 3) === IpiState.POSTED) progressed = cpu.handleIpis() > 0;
        if (Atomics.load(i32, H.STOP) !== 0) stopping = true;
        // Another thread failed: leave now, whatever is in progress.
        if (Atomics.load(i32, H.ABORT) !== 0) {
          more = false;
          break;
        }
      }
      // Stop once no multi-step operation is in progress (checked every step
      // once the stop was seen: a quantum boundary may keep landing mid-walk).
      if (stopping && irqOffLeft === 0 && idleLeft === 0 && !cpu.inGup) {
        more = false;
        break;
      }
      if (steps >= limit && !background) {
        if (gate !== null) background = true;
        else if (irqOffLeft === 0 && idleLeft === 0 && !cpu.inGup) {
          more = false;
          break;
        }
      }
      // Poll the IPI inbox at every instruction boundary. This per-step look is a
      // plain load, a hint; the handler re-reads the inbox with an SC load
      // before it acts, and the quantum boundary above polls with an SC load
      // too, so an IPI is taken within `quantum` steps even if a plain load
      // could lag.
      if ((i32[inbox] & 3) === IpiState.POSTED && cpu.irq && cpu.handleIpis() > 0) progressed = true;
      cpu.step++;
      steps++;
      if (cpu.inGup) {
        progressed = true;
        // Each level of a software walk is its own instruction, and other
        // instructions come between two levels (gupGap).
        if (gupGapLeft > 0) gupGapLeft--;
        else {
          cpu.gupStep();
          gupGapLeft = w.gupGap;
          if (!cpu.inGup) cpu.setOp(CpuOp.NONE);
          // Between two levels of the walk: a race window (cores.ts).
          else if (gate === null) cpu.window(GUP_WINDOW_ODDS, GUP_FREE_ODDS, GUP_STALL_ODDS, GUP_STALL_MAX_US, GUP_PARK_MAX_US);
        }
        cpu.boundary();
        continue;
      }
      if (idleLeft > 0) {
        // The idle task is a kernel thread: the CPU is in lazy TLB mode, its
        // hardware still walks the mm speculatively (where the flavour does).
        if (spec > 0 && rng.float() < spec) cpu.speculativeWalk(pickPage(reads, rng), false);
        if (--idleLeft === 0) {
          cpu.leaveLazy();
          cpu.setOp(CpuOp.NONE);
        }
        continue;
      }
      if (irqOffLeft > 0) {
        cpu.f64[cpu.L.counter(cpu.id, K.irqOffSteps)]++;
        // Interrupts off: IPI initiators wait for this CPU, a window (cores.ts).
        if (cores.holding && cores.windowDue(IRQ_OFF_WINDOW_ODDS)) cpu.handOverCore();
        if (--irqOffLeft === 0) {
          progressed = true;
          cpu.setIrq(true);
          cpu.setOp(CpuOp.NONE);
        }
      }
      if (spec > 0 && rng.float() < spec) {
        const exec = execs.length > 0 && (rng.next() & 7) === 0;
        cpu.speculativeWalk(pickPage(exec ? execs : reads, rng), exec);
      }
      const r = rng.next();
      let op = 0;
      while (r >= cum[op]) op++;
      // In the background only the workload's own accesses: nothing that
      // would hold others up (other operations become empty steps).
      if (background && op > OP_FETCH) op = -1;
      switch (op) {
        case OP_LOAD:
        case OP_STORE:
        case OP_FETCH: {
          // The op codes are the access types (Access.LOAD, STORE, FETCH).
          const type = op as AccessCode;
          const ranges = op === OP_LOAD ? reads : op === OP_STORE ? writes : execs;
          const vpn = ranges.length === 2 ? ranges[0] + rng.below(ranges[1]) : pickPage(ranges, rng);
          const off = r & (W - 1);
          const value = op === OP_STORE ? (cpu.id << 24) | (cpu.step & 0xffffff) : 0;
          let res = cpu.hit(type, vpn, off, value);
          if (res === NOT_HIT) res = cpu.accessMiss(type, vpn, off, value);
          // A hit: counted in the batch (a rare permission fault on a hit, at once).
          else if (res === AccessResult.FAULT) cpu.countHits(type, 0, 1);
          else if (op === OP_LOAD) hitLoads++;
          else if (op === OP_STORE) hitStores++;
          else hitFetches++;
          if (rec !== null) rec.ev(Ev.ACCESS, type, vpn, res);
          break;
        }
        case OP_IRQ_OFF:
          if (cpu.irq) {
            cpu.setOp(CpuOp.IRQ_OFF);
            cpu.setIrq(false);
            irqOffLeft = w.irqOffSteps;
          }
          break;
        case OP_SWITCH: {
          const next = w.spaces[rng.below(w.spaces.length)];
          if (next !== cpu.asid) cpu.switchMm(next);
          break;
        }
        case OP_GUP:
          if (cpu.irq) {
            cpu.setOp(CpuOp.GUP_FAST);
            cpu.gupBegin(pickPage(reads, rng), w.gupPages);
            gupGapLeft = w.gupGap;
            cpu.boundary();
          }
          break;
        case OP_IDLE:
          cpu.setOp(CpuOp.IDLE);
          idleLeft = w.idleSteps;
          // Switching to the idle task: enter_lazy_tlb (machine/lazy.ts).
          cpu.enterLazy();
          break;
      }
    }
  } finally {
    // Also when a step throws: the caller publishes the hit counts.
    run.q = q;
    run.irqOffLeft = irqOffLeft;
    run.idleLeft = idleLeft;
    run.steps = steps;
    run.gupGapLeft = gupGapLeft;
    run.stopping = stopping;
    run.background = background;
    run.progressed = progressed;
    run.hitLoads = hitLoads;
    run.hitStores = hitStores;
    run.hitFetches = hitFetches;
  }
  return more;
}
