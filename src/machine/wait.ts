import type { Gate } from './gate.js';
import { C, H, type Layout } from './layout.js';
import { MachineAborted } from './sync.js';

/**
 * The one timed wait of the machine and the harness: every thread that waits
 * for another (an IPI sender for its acknowledgement or for a free inbox, a
 * broadcast initiator for the other CPUs' quiescence points, the start
 * barrier, the coordinator's waitSteps, the bench and probe roles) waits here.
 *
 * Why waiters must sleep. The host has 2 cores and runs 4 to 9 CPU threads
 * (the coordinator included): oversubscription is the normal case, not an
 * exception. A waiter that spun for long would hold a core that the thread it
 * waits for needs in order to make the awaited condition true, so every wait:
 *
 *  1. spins briefly: cfg.spinLimit rounds (a round on an idle host answers in
 *     well under a microsecond, and an IPI round trip should not pay a sleep);
 *  2. then sleeps in Atomics.wait, with a short timeout, on the word whoever
 *     makes the condition true notifies (the waiter's own DOORBELL, with the
 *     SLEEPING announcement of ipi.ts's ring(); the target's inbox STATE; the
 *     target's EPOCH; the barrier generation). The timeout bounds what a lost
 *     or missing wake-up costs, so a condition nobody notifies for (step
 *     counts, scratch flags) is still seen within a sleep;
 *  3. runs `poll` every round, sleeping or spinning: a waiter keeps handling
 *     its own IPIs when its interrupts are on (smp_call_function's rule, so
 *     CPUs that IPI each other cannot deadlock), and the caller may pass its
 *     quiescence points there too;
 *  4. gives up with MachineAborted as soon as the machine's ABORT word is set
 *     (another thread failed: Machine.abort() also notifies the words waiters
 *     sleep on), and with the caller's error past the watchdog `timeoutMs`.
 *
 * Under the host-core gate of stress runs (cores.ts, reached as gate.cores)
 * a waiter stops spinning as soon as another CPU thread is queued for a
 * core. While threads are queued it does not sleep: each round that finds
 * its condition false hands its core on (to the CPU it waits for, if that one
 * is queued) and it looks again when a core comes back round. Only with
 * nobody queued does it sleep, having given its core away, and it takes one
 * back, ahead of the threads whose slice ran out, once its condition holds.
 * (Why: with every host core held by a running CPU thread, a sleeper's
 * wake-up waits for the host's scheduler to preempt one, milliseconds on a
 * small VM; a hand-off runs the next thread on the core the waiter leaves.)
 *
 * Under a controlled run's gate (gate.controlling) none of this: every round
 * is a gate.point(progressed) instead, with no spinning and no clock, so the
 * interleaving stays a function of the PCT priorities alone and a waiter never
 * spins against the thread it waits for (a round whose poll did nothing marks
 * the waiter blocked until some other thread makes progress; see gate.ts).
 *
 * Round order. A round is `poll`, then the check, then (if the condition is
 * false) the yield point or the abort/watchdog checks and possibly a sleep.
 * `checkFirst` swaps the first two (check, then poll: the waiter does not take
 * an IPI in the round that finds the condition true); `announced` makes the
 * first round skip its poll and count as progress (the caller's announcement
 * of the wait, made before, already made another thread runnable). Both exist
 * to keep each waiter's sequence of yield points what it was before the waits
 * were merged: a controlled run's seed must give the same run.
 *
 * Not here: the gate's own turn wait (gate.ts waitTurn: it is what gate.point
 * itself blocks in, so it cannot yield to the gate, and it has no poll and no
 * watchdog: the gate's step limit and deadlock detection are its watchdog) and
 * the allocator's futex mutex (sync.ts mutexLock: Drepper's lock protocol
 * exchanges the lock word itself on every round, and a critical section is a
 * few hundred instructions, so it has no watchdog and no poll).
 */

/**
 * Steps an awaited CPU executes within the watchdog's time before it counts
 * as stuck rather than starved: a CPU on a host core executes millions a
 * second, so this many in `timeoutMs` (2 s by default) means it had well
 * under 1% of a core.
 */
export const STARVED_STEPS = 100_000;
/** How much longer than `timeoutMs` a watchdog waits for a starved CPU. */
export const STARVED_GRACE = 10;

/** A poll that does nothing (a waiter with nothing of its own to serve). */
export const NO_POLL = (): boolean => false;

export interface WaitOptions {
  /** Spin rounds before the first sleep (cfg.spinLimit). */
  spin: number;
  /** The waiter's own work, every round (taking its IPIs); returns whether it did something. */
  poll: () => boolean;
  /**
   * One sleep, at most about `remainingMs` (the watchdog's time left) and
   * usually much less, on the word whoever makes the condition true notifies.
   */
  sleep: (remainingMs: number) => void;
  /**
   * Checks that need not run every round, run each time the wait stops
   * running: before a sleep, and before it hands its host core on (a lock
   * wait's cycle detection; throwing ends the wait).
   */
  pause?: () => void;
  /** Watchdog: past this many milliseconds of waiting, throw onTimeout(waited) (see `progressOf`). */
  timeoutMs: number;
  /**
   * The awaited CPU's published step count. Given, the watchdog tells a CPU
   * that is stuck from one the host starved: past `timeoutMs` it fires only
   * if the awaited CPU executed at least STARVED_STEPS steps since the wait
   * began (a CPU stuck with interrupts off keeps executing), and waits on
   * while it did not (a heavily loaded host gave it no time), up to
   * STARVED_GRACE times `timeoutMs`.
   */
  progressOf?: () => number;
  onTimeout: (waitedMs: number) => Error;
  /** A controlled run's gate (null or inactive: a stress run). */
  gate: Gate | null;
  /** Check the condition before polling in each round (see the header). */
  checkFirst?: boolean;
  /** The first round skips its poll and counts as progress (see the header). */
  announced?: boolean;
  /**
   * The awaited thread holds a host core whenever the condition is still
   * false (a broadcast initiator waits only for CPUs whose EPOCH is odd, and
   * a CPU off its core is quiescent): spin as usual, even while other
   * threads are queued for a core (cores.ts).
   */
  awaitsRunning?: boolean;
  /** The CPU this wait waits for, if one: it gets this thread's host core when the wait hands it on or sleeps (cores.ts). */
  awaited?: () => number;
  /**
   * The awaited CPU makes the condition true within a step or two of getting
   * a core (an IPI's acknowledgement, a free inbox): under the host-core gate
   * the waiter that handed its core over queues ahead of the others, so it
   * looks again at that CPU's next quantum boundary, not a whole slice later.
   */
  soon?: boolean;
}

/**
 * One stress-mode round: the waiter's own work and the condition, in the
 * caller's order; returns whether the condition holds. (A function of its
 * own, not a closure made per wait: an IPI's round trip waits once.)
 */
function round(done: () => boolean, poll: () => boolean, checkFirst: boolean): boolean {
  if (checkFirst) {
    if (done()) return true;
    poll();
    return false;
  }
  poll();
  return done();
}

/** Past the watchdog's time: whether the awaited CPU had too little host time to answer (see WaitOptions.progressOf). */
function starved(o: WaitOptions, progress0: number, waited: number): boolean {
  return o.progressOf !== undefined && waited < o.timeoutMs * STARVED_GRACE && o.progressOf() - progress0 < STARVED_STEPS;
}

/** Block until `done()` holds, by the rules in the header. */
export function waitUntil(i32: Int32Array, done: () => boolean, o: WaitOptions): void {
  const poll = o.poll;
  const checkFirst = o.checkFirst === true;
  const gate = o.gate;
  if (gate !== null && gate.controlling) {
    // Controlled run: every round is a yield point (no spinning, no clock).
    let progressed = o.announced === true;
    let skipPoll = progressed;
    for (;;) {
      if (checkFirst) {
        if (done()) return;
        progressed = poll();
      } else {
        if (!skipPoll) progressed = poll();
        skipPoll = false;
        if (done()) return;
      }
      gate.point(progressed);
    }
  }
  // Under the host-core gate (cores.ts), no spinning while another CPU
  // thread is queued for a core: the thread this one waits for may be it.
  const cores = gate !== null ? gate.cores : null;
  const yieldEarly = cores !== null && o.awaitsRunning !== true;
  for (let i = 0; i < o.spin; i++) {
    if (round(done, poll, checkFirst)) return;
    if (yieldEarly && cores!.contended()) break;
  }
  // Whether this wait gave its core away to sleep (then it takes one back at the end).
  let gave = false;
  const t0 = performance.now();
  const progress0 = o.progressOf !== undefined ? o.progressOf() : 0;
  for (;;) {
    if (round(done, poll, checkFirst)) {
      if (gave) cores!.resume();
      return;
    }
    if (Atomics.load(i32, H.ABORT) !== 0) throw new MachineAborted();
    const waited = performance.now() - t0;
    if (waited > o.timeoutMs && !starved(o, progress0, waited)) throw o.onTimeout(waited);
    o.pause?.();
    if (!gave && cores !== null) {
      const awaited = o.awaited !== undefined ? o.awaited() : -1;
      // Another thread queued: hand the core over (to the awaited CPU if it
      // is queued) and look again when it comes back round. No sleep, so no
      // wake-up that waits for the host's scheduler to preempt a running CPU
      // thread: the thread that takes the core runs on the host core this
      // one leaves.
      if (cores.contended()) {
        cores.handOver(awaited, o.soon === true);
        continue;
      }
      // Nobody queued: sleep, holding no core (a nested wait finds it given
      // away already), so a host core stays free for whoever wakes this one.
      gave = cores.suspend(awaited);
    }
    o.sleep(o.timeoutMs - waited);
  }
}

/**
 * A sleep on CPU `self`'s own DOORBELL, for a condition whose maker rings it
 * (ipi.ts ring()): announce SLEEPING, sample the bell, poll and check once
 * more (a ring between the check and the sample would be lost otherwise), then
 * wait at most `maxMs`. A condition nobody rings for passes a small `maxMs`.
 */
export function doorbellSleep(i32: Int32Array, L: Layout, self: number, done: () => boolean, poll: () => boolean, maxMs = 50): (remainingMs: number) => void {
  const bell = L.cpu(self, C.DOORBELL);
  const sleeping = L.cpu(self, C.SLEEPING);
  return (remainingMs: number): void => {
    Atomics.store(i32, sleeping, 1);
    const seen = Atomics.load(i32, bell);
    poll();
    if (!done()) Atomics.wait(i32, bell, seen, Math.min(maxMs, remainingMs + 1));
    Atomics.store(i32, sleeping, 0);
  };
}

/**
 * Wait on CPU `self`'s doorbell until `done()` (the common case: whoever makes
 * the condition true rings `self`). `maxSleepMs` bounds each sleep: pass a
 * small one when nobody rings for the condition.
 */
export function waitOnDoorbell(
  i32: Int32Array,
  L: Layout,
  self: number,
  done: () => boolean,
  poll: () => boolean,
  timeoutMs: number,
  onTimeout: (waitedMs: number) => Error,
  gate: Gate | null = null,
  maxSleepMs = 50,
): void {
  waitUntil(i32, done, { spin: L.cfg.spinLimit, poll, sleep: doorbellSleep(i32, L, self, done, poll, maxSleepMs), timeoutMs, onTimeout, gate });
}
