import { CPU_OP_NAMES } from './constants.js';
import type { CoreGate } from './cores.js';
import { C, G, H, type Layout } from './layout.js';
import { waitText } from './locks.js';
import { MachineAborted } from './sync.js';

/** A controlled iteration longer than this is a livelock in the model, not a run. */
export const MAX_GATE_STEPS = 5_000_000;

/** Every runnable thread is blocked: nothing can ever happen again. */
export class DeadlockError extends Error {
  constructor(readonly step: number, readonly blocked: string[]) {
    super(`controlled run deadlocked at step ${step}: every thread is waiting (${blocked.join('; ')})`);
    this.name = 'DeadlockError';
  }
}

/**
 * The step gate of controlled runs. While ACTIVE, the machine's threads take
 * turns: only the thread named by TURN executes, and at every yield point it
 * hands the turn to the highest-priority runnable thread. That makes the
 * interleaving a function of the priorities alone, whatever the host's timing:
 * the same priorities give the same run, bit for bit.
 *
 * Yield points are the machine's visible actions: each run-loop step, each
 * page-table write, frame allocation and free, IPI post, remote invalidation,
 * and every round of a wait. A round of a wait that found nothing to do
 * marks its thread blocked; any thread's progress unblocks everyone (the
 * state it waited on may have changed). So a waiter never spins against the
 * thread it waits for.
 *
 * Priorities and change points are data (written before the run by whoever
 * drives it; PCT in the harness): when the gate's step counter reaches change
 * point i, the running thread's priority drops to i + 1, below every initial
 * priority (PCT's d - 1 change points, Burckhardt et al., ASPLOS 2010).
 */
export class Gate {
  /**
   * The same thread's host-core gate (cores.ts), for stress runs: the waits
   * that take this gate give their core away through it.
   */
  cores: CoreGate | null = null;
  private entered = false;
  private readonly n: number;
  private readonly turnAt: number;

  constructor(
    private readonly i32: Int32Array,
    private readonly L: Layout,
    readonly self: number,
  ) {
    this.n = L.cfg.cpus;
    this.turnAt = L.gateWord(G.TURN);
  }

  /** Whether this run is controlled (set by the driver before the threads start). */
  get active(): boolean {
    return Atomics.load(this.i32, this.L.gateWord(G.ACTIVE)) !== 0;
  }

  /** Whether this thread is under the gate now. */
  get controlling(): boolean {
    return this.entered;
  }

  /** The current global step (meaningful while controlling). */
  get step(): number {
    return Atomics.load(this.i32, this.L.gateWord(G.STEP));
  }

  /** Set up a controlled run: priorities per thread, change points (global steps). */
  static arm(i32: Int32Array, L: Layout, priorities: number[], changes: number[]): void {
    if (changes.length > G.MAX_CHANGES) throw new Error(`at most ${G.MAX_CHANGES} change points`);
    for (let t = 0; t < L.cfg.cpus; t++) {
      Atomics.store(i32, L.gateThread(t, G.PRIO), priorities[t]);
      Atomics.store(i32, L.gateThread(t, G.BLOCKED), 0);
      Atomics.store(i32, L.gateThread(t, G.DONE), 0);
      Atomics.store(i32, L.gateThread(t, G.ENTERED), 0);
    }
    changes.forEach((c, i) => Atomics.store(i32, L.gateChange(i), c));
    Atomics.store(i32, L.gateWord(G.CHANGES), changes.length);
    Atomics.store(i32, L.gateWord(G.STEP), 0);
    let best = 0;
    for (let t = 1; t < L.cfg.cpus; t++) if (priorities[t] > priorities[best]) best = t;
    Atomics.store(i32, L.gateWord(G.TURN), best);
    Atomics.store(i32, L.gateWord(G.ACTIVE), 1);
  }

  /** Join the controlled part of the run: returns on this thread's first turn. */
  enter(): void {
    if (!this.active) return;
    this.entered = true;
    Atomics.store(this.i32, this.L.gateThread(this.self, G.ENTERED), 1);
    this.waitTurn();
  }

  /**
   * A yield point: this thread has done one step (`progress`: it changed
   * something another thread may wait on; false: a wait round found nothing).
   * Returns when it is this thread's turn again.
   */
  point(progress: boolean): void {
    if (!this.entered) return;
    this.pass(progress);
    this.waitTurn();
  }

  /** This thread is finished: hand the turn on for good. */
  finish(): void {
    if (!this.entered) return;
    this.entered = false;
    Atomics.store(this.i32, this.L.gateThread(this.self, G.DONE), 1);
    this.pass(true);
  }

  private pass(progress: boolean): void {
    const { i32, L, n } = this;
    if (progress) {
      for (let t = 0; t < n; t++) if (i32[L.gateThread(t, G.BLOCKED)]) Atomics.store(i32, L.gateThread(t, G.BLOCKED), 0);
    } else {
      Atomics.store(i32, L.gateThread(this.self, G.BLOCKED), 1);
    }
    const step = Atomics.add(i32, L.gateWord(G.STEP), 1) + 1;
    if (step > MAX_GATE_STEPS) throw new Error(`controlled run exceeded ${MAX_GATE_STEPS} steps: a thread never stops making progress (livelock)`);
    const changes = Atomics.load(i32, L.gateWord(G.CHANGES));
    for (let i = 0; i < changes; i++) {
      if (Atomics.load(i32, L.gateChange(i)) === step) Atomics.store(i32, L.gateThread(this.self, G.PRIO), i + 1);
    }
    let next = -1;
    let live = 0;
    for (let t = 0; t < n; t++) {
      if (Atomics.load(i32, L.gateThread(t, G.DONE))) continue;
      live++;
      if (Atomics.load(i32, L.gateThread(t, G.BLOCKED))) continue;
      if (next < 0 || Atomics.load(i32, L.gateThread(t, G.PRIO)) > Atomics.load(i32, L.gateThread(next, G.PRIO))) next = t;
    }
    if (next < 0) {
      if (live === 0) return; // everyone finished
      const blocked: string[] = [];
      for (let t = 0; t < n; t++) if (!Atomics.load(i32, L.gateThread(t, G.DONE))) blocked.push(this.describe(t));
      throw new DeadlockError(step, blocked);
    }
    if (next !== Atomics.load(i32, this.turnAt)) {
      Atomics.store(i32, this.turnAt, next);
      Atomics.notify(i32, this.turnAt);
    }
  }

  /** What thread t is doing, for a deadlock report. */
  private describe(t: number): string {
    const { i32, L } = this;
    const on = Atomics.load(i32, L.cpu(t, C.WAITING_ON));
    const parts = [`CPU ${t}: ${CPU_OP_NAMES[Atomics.load(i32, L.cpu(t, C.CUR_OP))] ?? 'op ?'}`];
    if (on) parts.push(`waiting for CPU ${on - 1} to acknowledge an IPI`);
    if (!Atomics.load(i32, L.cpu(t, C.IRQ_ENABLED))) parts.push('interrupts off');
    parts.push(`epoch ${Atomics.load(i32, L.cpu(t, C.EPOCH))}`);
    const w = Atomics.load(i32, L.cpu(t, C.EPOCH_WATCHERS));
    if (w) parts.push(`${w} broadcast initiator(s) waiting for its epoch to leave ${Atomics.load(i32, L.cpu(t, C.EPOCH_WATCHED))}`);
    const wf = Atomics.load(i32, L.cpu(t, C.WAIT_FOR));
    if (wf !== 0) parts.push(waitText(i32, L, wf));
    const k = Atomics.load(i32, L.cpu(t, C.KERNEL_OP));
    if (k) parts.push(`kernel op ${k}`);
    return parts.join(', ');
  }

  private waitTurn(): void {
    const { i32, turnAt, self } = this;
    for (let i = 0; i < 200; i++) if (Atomics.load(i32, turnAt) === self) return;
    for (;;) {
      const t = Atomics.load(i32, turnAt);
      if (t === self) return;
      if (Atomics.load(i32, H.ABORT) !== 0) throw new MachineAborted();
      Atomics.wait(i32, turnAt, t, 50);
    }
  }
}
