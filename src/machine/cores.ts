import { availableParallelism } from 'node:os';
import { ConfigError } from './config.js';
import { C, H, type Layout } from './layout.js';
import { MachineAborted, mutexLock, mutexUnlock, xorshift32 } from './sync.js';

/**
 * The host-core gate of stress runs: at most `tokens` CPU threads execute at
 * once, where `tokens` is the number of host cores.
 *
 * Why. The host has 2 to 4 cores and runs 4 to 9 CPU threads. Left to the
 * host's scheduler, a thread that waits for another (an IPI initiator for an
 * acknowledgement, a broadcast initiator for a quiescence point, a lock
 * waiter) waits until the scheduler happens to run the thread it waits for,
 * which holds no core while the CPU threads that keep running hold both:
 * a whole time slice, milliseconds, per shootdown. And a race window (a
 * gup_fast walk between two levels, a kernel between unhook and flush) is
 * open for nanoseconds of a running thread, so with most CPU threads off
 * their cores the windows of two CPUs rarely overlap at all.
 *
 * The gate replaces the host's preemption with its own, at places the model
 * chooses, and every change of hands is a hand-off: the thread that gives a
 * core away stops on the host core the next one runs on, so nobody waits for
 * the host's scheduler to preempt a running thread (milliseconds on a small
 * VM, where every core is busy with a CPU thread that holds a token). A
 * thread executes only while it holds a core token:
 *
 *  - it takes one when its iteration starts (before the start barrier, which
 *    hands cores on like any wait) and gives it back when it ends (a
 *    batch of iterations keeps it from one to the next, through waits that
 *    hand it on: harness/thread/batch.ts);
 *  - a running CPU hands its core over after a randomized slice of steps, if
 *    some thread is queued for one (`sliceDue`); with nobody queued it runs on;
 *  - a thread that waits (wait.ts waitUntil: IPI acknowledgements, inboxes,
 *    quiescence points, locks, kernel points, step counts) stops spinning at
 *    once when another thread is queued (no spinning against a thread that
 *    has no core), and while threads are queued it does not sleep: each
 *    round that finds its condition false hands its core on (`handOver`, to
 *    the CPU it waits for if that one is queued, queued ahead of the others
 *    when that CPU answers within a step: `soon`) and looks again when a core
 *    comes back round. With nobody queued it sleeps holding no core
 *    (`suspend`) and, once its condition holds, queues ahead of the
 *    slice-expired threads (`resume`); a running CPU hands its core to such a
 *    thread at its next quantum boundary without waiting for its slice to end;
 *  - inside a race window (interrupts off, a gup_fast walk, a kernel point
 *    between two actions) a CPU hands over with a higher probability
 *    (`windowDue`), the way a real CPU stalls there on a cache miss or an
 *    interrupt of a hypervisor (a gup_fast walker stays off every core for
 *    a while before it queues again: `park`). It is a delay, and delays are
 *    what every correct policy must tolerate: it makes a buggy policy's
 *    window reachable, never a correct one wrong.
 *
 * The threads inside the gate still race for real, on real cores; the
 * randomized slices keep the interleavings varied. With no more CPU threads
 * than cores the gate is not armed (tokens 0): every CPU thread has a host
 * core, and a window stalls in place now and then instead (`stallDue`,
 * Cpu.window). Controlled
 * (pct) runs have their own step gate (gate.ts) and never arm this one.
 *
 * Protocol. The queue is the per-CPU CORE_STATE words (OUT, RUN, QUEUED,
 * GRANTED) with a ticket each, under one futex mutex (H.CORE_LOCK): a token
 * moves from a releasing thread straight to the queued thread it picks
 * (GRANTED, then notify), so a free token and a queued thread never coexist,
 * and H.CORE_QUEUED (read without the lock) tells a runner whether anyone
 * is waiting for its core. Queued threads sleep on their own CORE_STATE
 * word with a short timeout and give up with MachineAborted when the machine
 * is aborted, so a failure elsewhere never leaves a thread queued forever.
 *
 * Nesting. A wait inside a wait (an IPI handler taken while waiting) finds
 * the core already given away and neither gives nor takes: only the wait
 * that gave the core away takes it back, so a thread never sleeps holding a
 * core.
 */
export const CoreState = { OUT: 0, RUN: 1, QUEUED: 2, GRANTED: 3, BORROWED: 4 } as const;

/** Slice lengths (CPU steps) a running thread draws from, uniformly. */
export const SLICE_MIN = 128;
export const SLICE_MAX = 1024;

/** Stall lengths (µs) of a window stall without the gate, uniformly. */
export const STALL_MIN_US = 1;
export const STALL_MAX_US = 256;

/** Spin for `us` microseconds, or until `ended()`: a stall of a CPU that keeps its host core (stallDue). */
export function spinMicros(us: number, ended?: () => boolean): void {
  const until = performance.now() + us / 1000;
  if (ended === undefined) while (performance.now() < until);
  else while (performance.now() < until && !ended());
}

/** Arm the gate for an iteration: `tokens` cores (0: no gate). After Machine.reset. */
export function armCores(i32: Int32Array, tokens: number): void {
  Atomics.store(i32, H.CORE_FREE, tokens);
  Atomics.store(i32, H.CORE_QUEUED, 0);
  Atomics.store(i32, H.CORE_TICKET, 0);
  Atomics.store(i32, H.CORE_URGENT, 0);
  Atomics.store(i32, H.CORE_TOKENS, tokens);
}

/**
 * How many cores a stress run of `cpus` CPU threads gates to: `hostCores`
 * when there are more CPU threads than that, else 0 (no gate).
 */
export function coreTokens(cpus: number, hostCores: number): number {
  return hostCores > 0 && cpus > hostCores ? hostCores : 0;
}

/**
 * The host's cores for the gate: SMPSIM_HOST_CORES if set (0 turns the gate
 * off), else os.availableParallelism(). A value that is not a whole number
 * of cores is the user's mistake, refused (ConfigError: one line, exit 2).
 */
export function hostCores(): number {
  const env = process.env.SMPSIM_HOST_CORES;
  if (env === undefined || env === '') return availableParallelism();
  if (!/^\d{1,4}$/.test(env.trim())) throw new ConfigError(`SMPSIM_HOST_CORES='${env}': a whole number of host cores, 0 to 9999 (0 turns the host-core gate off)`);
  return Number(env.trim());
}

export class CoreGate {
  /** Whether this thread holds a core token. */
  holding = false;
  /**
   * False while the thread runs what no other CPU races with (CPU 0's setup
   * of an iteration, before the start barrier): no race window hands the
   * core over then. In a batch the thread holds its core during the setup,
   * and the threads queued meanwhile only wait for the iteration to start.
   */
  windows = true;
  private sliceLeft = 0;
  private rnd: number;
  private readonly stateAt: number;
  private readonly ticketAt: number;
  private readonly urgentAt: number;
  private readonly n: number;

  constructor(
    private readonly i32: Int32Array,
    private readonly L: Layout,
    readonly self: number,
  ) {
    this.n = L.cfg.cpus;
    this.stateAt = L.cpu(self, C.CORE_STATE);
    this.ticketAt = L.cpu(self, C.CORE_TICKET);
    this.urgentAt = L.cpu(self, C.CORE_URGENT);
    // The slice stream is the host's business, not the workload's: seeded apart from it.
    this.rnd = (0x9e3779b9 ^ Math.imul(self + 1, 0x85ebca6b) ^ (Date.now() | 0)) >>> 0 || 1;
  }

  /** Whether the gate is armed this iteration. */
  get armed(): boolean {
    return Atomics.load(this.i32, H.CORE_TOKENS) !== 0;
  }

  /** Whether some thread waits for a core (a plain hint, read without the lock). */
  contended(): boolean {
    return this.holding && Atomics.load(this.i32, H.CORE_QUEUED) !== 0;
  }

  /** Whether a thread whose wait has ended is queued (a plain hint, read without the lock). */
  urgentQueued(): boolean {
    return this.holding && Atomics.load(this.i32, H.CORE_URGENT) !== 0;
  }

  /** Join: returns holding a core (a no-op when the gate is not armed). */
  enter(): void {
    if (!this.armed || this.holding) return;
    this.take(false);
  }

  /** Leave for good (end of the iteration, or a failure). */
  leave(): void {
    if (this.holding) this.release();
    Atomics.store(this.i32, this.stateAt, CoreState.OUT);
  }

  /**
   * A running CPU's step boundary, `steps` steps after the last: whether its
   * slice is used up and somebody is queued (then the caller hands over).
   */
  sliceDue(steps: number): boolean {
    if (!this.holding) return false;
    // A finished wait is queued: its thread has what it waited for, hand over now.
    if (Atomics.load(this.i32, H.CORE_URGENT) !== 0) return true;
    if ((this.sliceLeft -= steps) > 0) return false;
    this.sliceLeft = this.drawSlice();
    return Atomics.load(this.i32, H.CORE_QUEUED) !== 0;
  }

  /**
   * A step inside a race window: whether to hand the core over here, with
   * odds 1 in 2^oddsShift, when somebody is queued.
   */
  windowDue(oddsShift: number): boolean {
    return this.windows && this.contended() && this.chance(oddsShift);
  }

  /** True with odds 1 in 2^oddsShift (the gate's own stream, apart from the workload's). */
  chance(oddsShift: number): boolean {
    this.rnd = xorshift32(this.rnd);
    return (this.rnd & ((1 << oddsShift) - 1)) === 0;
  }

  /**
   * A step inside a race window of a run without the gate (every CPU thread
   * has a host core of its own): how many microseconds to stall here, with
   * odds 1 in 2^oddsShift (1 to `maxUs`), else 0. The real CPU's stall on a
   * cache miss or a hypervisor's preemption, for runs where the host never
   * preempts.
   */
  stallDue(oddsShift: number, maxUs: number = STALL_MAX_US): number {
    this.rnd = xorshift32(this.rnd);
    if ((this.rnd & ((1 << oddsShift) - 1)) !== 0) return 0;
    return STALL_MIN_US + ((this.rnd >>> 16) % (maxUs - STALL_MIN_US + 1));
  }

  /**
   * Give the core to the next queued thread (to CPU `prefer` if it is
   * queued) and queue behind the others, or ahead of them when `urgent` (a
   * wait that expects its condition within a few steps of that thread's):
   * returns holding a core again. One turn of the lock does both, and this
   * thread is queued before the thread it wakes can run: if the host
   * preempts it right after the wake-up (the woken thread often lands on its
   * host core), it is already in the queue, so a core can come back to it
   * meanwhile. With nobody queued any more it keeps its core.
   */
  handOver(prefer = -1, urgent = false): void {
    const i32 = this.i32;
    this.lock();
    const next = this.pickNext(prefer);
    if (next < 0) {
      mutexUnlock(i32, H.CORE_LOCK);
      return;
    }
    this.holding = false;
    this.enqueue(urgent);
    const at = this.grant(next);
    mutexUnlock(i32, H.CORE_LOCK);
    Atomics.notify(i32, at);
    this.awaitGrant();
  }

  /**
   * A CPU stalled inside a race window under the gate: give the core to
   * `prefer` (or the next queued thread), stay off every core for `us`
   * microseconds (through `sleep`, which may end it early: cpu.ts
   * stall), then queue for one again. The stall a real CPU takes there,
   * with the other CPUs running meanwhile.
   */
  park(prefer: number, us: number, sleep: (ms: number) => void): void {
    this.release(prefer);
    sleep(us / 1000);
    this.take(false);
  }

  /**
   * A wait goes to sleep: give the core away, to CPU `prefer` (the one it
   * waits for) if that one is queued, else to the first queued thread.
   * Returns whether this call gave it away (then, and only then, the caller
   * takes it back with `resume` when its wait ends).
   */
  suspend(prefer = -1): boolean {
    if (!this.holding) return false;
    this.release(prefer);
    return true;
  }

  /**
   * Take queued CPU `t` out of the queue for a moment, if it is queued from
   * its run loop's quantum boundary (C.CORE_INTERRUPTIBLE): no core can be
   * granted to it until `giveBack`, so the caller may act for it meanwhile
   * (an IPI sender takes the IPI on its behalf: flush-initiator.ts). Returns
   * whether it did.
   */
  borrow(t: number): boolean {
    const { i32, L } = this;
    const at = L.cpu(t, C.CORE_STATE);
    this.lock();
    const ok = Atomics.load(i32, at) === CoreState.QUEUED && Atomics.load(i32, L.cpu(t, C.CORE_INTERRUPTIBLE)) !== 0;
    if (ok) Atomics.store(i32, at, CoreState.BORROWED);
    mutexUnlock(i32, H.CORE_LOCK);
    return ok;
  }

  /** Put borrowed CPU `t` back in the queue where it was; a core freed meanwhile goes to it at once. */
  giveBack(t: number): void {
    const i32 = this.i32;
    this.lock();
    Atomics.store(i32, this.L.cpu(t, C.CORE_STATE), CoreState.QUEUED);
    let at = -1;
    if (Atomics.load(i32, H.CORE_FREE) > 0) {
      Atomics.sub(i32, H.CORE_FREE, 1);
      at = this.grant(t);
    }
    mutexUnlock(i32, H.CORE_LOCK);
    if (at >= 0) Atomics.notify(i32, at);
  }

  /** A wait that suspended has ended: take a core again, ahead of slice-expired threads. */
  resume(): void {
    this.take(true);
  }

  private drawSlice(): number {
    this.rnd = xorshift32(this.rnd);
    return SLICE_MIN + (this.rnd % (SLICE_MAX - SLICE_MIN + 1));
  }

  private lock(): void {
    mutexLock(this.i32, H.CORE_LOCK, 100, H.ABORT);
  }

  private take(urgent: boolean): void {
    const i32 = this.i32;
    this.lock();
    if (Atomics.load(i32, H.CORE_FREE) > 0) {
      Atomics.sub(i32, H.CORE_FREE, 1);
      Atomics.store(i32, this.stateAt, CoreState.RUN);
      mutexUnlock(i32, H.CORE_LOCK);
      this.holding = true;
      this.sliceLeft = this.drawSlice();
      return;
    }
    this.enqueue(urgent);
    mutexUnlock(i32, H.CORE_LOCK);
    this.awaitGrant();
  }

  /** Hand the token to `prefer` if queued, else the first queued thread (urgent ones first, then by ticket), else free it. */
  private release(prefer = -1): void {
    const i32 = this.i32;
    this.holding = false;
    this.lock();
    const next = this.pickNext(prefer);
    Atomics.store(i32, this.stateAt, CoreState.OUT);
    if (next < 0) {
      Atomics.add(i32, H.CORE_FREE, 1);
      mutexUnlock(i32, H.CORE_LOCK);
      return;
    }
    const at = this.grant(next);
    mutexUnlock(i32, H.CORE_LOCK);
    Atomics.notify(i32, at);
  }

  /** Under the lock: the thread a released core goes to, `prefer` if it is queued, else urgent ones first, then by ticket; -1: nobody queued. */
  private pickNext(prefer: number): number {
    const { i32, L, n } = this;
    if (prefer >= 0 && prefer !== this.self && Atomics.load(i32, L.cpu(prefer, C.CORE_STATE)) === CoreState.QUEUED) return prefer;
    let next = -1;
    let nextKey = 0;
    for (let t = 0; t < n; t++) {
      if (Atomics.load(i32, L.cpu(t, C.CORE_STATE)) !== CoreState.QUEUED) continue;
      // Urgent (a finished wait) sorts before any slice-expired thread; then first come.
      const key = Atomics.load(i32, L.cpu(t, C.CORE_TICKET)) - (Atomics.load(i32, L.cpu(t, C.CORE_URGENT)) ? 0x4000_0000 : 0);
      if (next < 0 || key < nextKey) {
        next = t;
        nextKey = key;
      }
    }
    return next;
  }

  /** Under the lock: give queued thread `next` a core; returns the word to notify once the lock is released. */
  private grant(next: number): number {
    const { i32, L } = this;
    Atomics.sub(i32, H.CORE_QUEUED, 1);
    if (Atomics.load(i32, L.cpu(next, C.CORE_URGENT)) !== 0) Atomics.sub(i32, H.CORE_URGENT, 1);
    const at = L.cpu(next, C.CORE_STATE);
    Atomics.store(i32, at, CoreState.GRANTED);
    return at;
  }

  /** Under the lock: queue this thread, urgent (a finished wait) or behind the others. */
  private enqueue(urgent: boolean): void {
    const i32 = this.i32;
    Atomics.store(i32, this.ticketAt, Atomics.add(i32, H.CORE_TICKET, 1));
    Atomics.store(i32, this.urgentAt, urgent ? 1 : 0);
    Atomics.store(i32, this.stateAt, CoreState.QUEUED);
    Atomics.add(i32, H.CORE_QUEUED, 1);
    if (urgent) Atomics.add(i32, H.CORE_URGENT, 1);
  }

  /** Queued: sleep until a releasing thread grants a core (or the machine is aborted). */
  private awaitGrant(): void {
    const i32 = this.i32;
    for (;;) {
      const s = Atomics.load(i32, this.stateAt);
      if (s === CoreState.GRANTED) break;
      if (Atomics.load(i32, H.ABORT) !== 0) throw new MachineAborted();
      Atomics.wait(i32, this.stateAt, s, 20);
    }
    Atomics.store(i32, this.stateAt, CoreState.RUN);
    this.holding = true;
    this.sliceLeft = this.drawSlice();
  }
}
