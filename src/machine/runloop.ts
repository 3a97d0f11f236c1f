import { Access, CpuOp } from './constants.js';
import type { Cpu } from './cpu.js';
import { IpiState } from './ipi.js';
import { H, K } from './layout.js';
import { Ev } from './recorder.js';
import type { Rng } from './rng.js';
import type { CompiledWorkload } from './workload.js';

const OP_LOAD = 0;
const OP_STORE = 1;
const OP_FETCH = 2;
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
/** Without the gate (a host core per CPU thread): odds that a walk stalls between two levels. */
const GUP_STALL_ODDS = 4;
const IRQ_OFF_WINDOW_ODDS = 5;

/** Pick a page from flattened (start, pages) pairs, uniformly over the pages. */
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

/**
 * A CPU's run loop: draw an operation per step from the seeded stream and
 * execute it. At every step boundary with interrupts enabled it takes pending
 * IPIs; every `quantum` steps (and between the steps of a gup_fast walk) it
 * passes a quiescence point and looks at the stop flag. Multi-step operations
 * (interrupts-off spans, gup_fast, idle) always complete before it returns, so
 * a CPU never leaves an iteration with interrupts disabled.
 *
 * Returns the number of steps executed.
 */
export function runWorkload(cpu: Cpu, w: CompiledWorkload, rng: Rng): number {
  const i32 = cpu.i32;
  const quantum = cpu.L.cfg.quantum;
  const W = cpu.L.W;
  const cum = w.cumulative;
  const spec = w.speculation;
  const inbox = cpu.inboxAt;
  const gate = cpu.gate.controlling ? cpu.gate : null;
  const rec = cpu.rec;
  const cores = cpu.cores;
  cpu.lazyAsid = -1;
  if (cpu.asid !== w.spaces[0]) cpu.switchMm(w.spaces[0]);
  cpu.resume();
  let q = 0;
  let irqOffLeft = 0;
  let idleLeft = 0;
  let steps = 0;
  const limit = w.steps;
  // Controlled runs: past its step budget a CPU goes on accessing memory in
  // the background, but a background step counts as progress only if it
  // changed something another thread can wait on (an IPI taken, interrupts
  // re-enabled, a gup_fast walk advanced). So it runs one step whenever
  // another thread has made progress and it has the higher priority, and
  // never keeps the run alive on its own.
  let gupGapLeft = 0;
  let stopping = false;
  let background = false;
  let progressed = false;
  for (;;) {
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
      // Host-core gate (cores.ts): the slice is used up and another CPU thread waits for a core.
      if (cores.sliceDue(quantum)) cpu.handOverCore();
      // A broadcast initiator waiting for this boundary has been released: progress.
      if (cpu.boundary()) progressed = true;
      // The sequentially consistent poll: see below.
      if (cpu.irq && (Atomics.load(i32, inbox) & 3) === IpiState.POSTED) progressed = cpu.handleIpis() > 0;
      if (Atomics.load(i32, H.STOP) !== 0) stopping = true;
      // Another thread failed: leave now, whatever is in progress.
      if (Atomics.load(i32, H.ABORT) !== 0) break;
    }
    // Stop once no multi-step operation is in progress (checked every step
    // once the stop was seen: a quantum boundary may keep landing mid-walk).
    if (stopping && irqOffLeft === 0 && idleLeft === 0 && !cpu.inGup) break;
    if (steps >= limit && !background) {
      if (gate !== null) background = true;
      else if (irqOffLeft === 0 && idleLeft === 0 && !cpu.inGup) break;
    }
    // Poll the IPI inbox at every instruction boundary. This per-step look is a
    // plain load, a hint that costs what a TLB-hit access costs a fifth of;
    // the handler re-reads the inbox with an SC load before it acts, and the
    // quantum boundary above polls with an SC load too, so an IPI is taken
    // within `quantum` steps even if a plain load could lag.
    if (cpu.irq && (i32[inbox] & 3) === IpiState.POSTED && cpu.handleIpis() > 0) progressed = true;
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
        else if (gate === null) cpu.window(GUP_WINDOW_ODDS, GUP_STALL_ODDS);
      }
      cpu.boundary();
      continue;
    }
    if (idleLeft > 0) {
      // The idle task is a kernel thread: the CPU is in lazy TLB mode, its
      // hardware still walks the mm speculatively (where the flavour does).
      if (spec > 0 && rng.float() < spec) cpu.speculativeWalk(pickPage(w.readRanges, rng), false);
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
      const exec = w.execRanges.length > 0 && (rng.next() & 7) === 0;
      cpu.speculativeWalk(pickPage(exec ? w.execRanges : w.readRanges, rng), exec);
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
        const type = op === OP_LOAD ? Access.LOAD : op === OP_STORE ? Access.STORE : Access.FETCH;
        const vpn = pickPage(op === OP_LOAD ? w.readRanges : op === OP_STORE ? w.writeRanges : w.execRanges, rng);
        const res = cpu.access(type, vpn, r & (W - 1), op === OP_STORE ? (cpu.id << 24) | (cpu.step & 0xffffff) : 0);
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
          cpu.gupBegin(pickPage(w.readRanges, rng), w.gupPages);
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
  cpu.op = CpuOp.NONE;
  // An aborted iteration may end inside an idle period.
  cpu.leaveLazy();
  if (!cpu.irq) cpu.setIrq(true);
  cpu.boundary();
  cpu.quiesce();
  return steps;
}
