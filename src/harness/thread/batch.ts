import { armCores } from '../../machine/cores.js';
import { H } from '../../machine/layout.js';
import type { CpuCounters, Machine } from '../../machine/machine.js';
import { type Violation, readViolationKinds } from '../../machine/checker.js';
import { MachineAborted } from '../../machine/sync.js';

/**
 * Batches of stress iterations run by the CPU threads themselves, without a
 * message per iteration.
 *
 * Why. An iteration run by messages costs two trips through every thread's
 * event loop: the harness posts each CPU its task (a wake-up of a thread
 * asleep in its event loop), and each CPU posts its result (a wake-up of the
 * harness's thread, which then competes for a host core with the CPU threads
 * still running). On a 2-core host that is about a third of a 2-CPU
 * iteration, and every such wake-up is one the host's scheduler may delay by
 * a whole time slice. In a batch the threads go from one iteration to the
 * next through the words below, and the harness hears from them once.
 *
 * Protocol (the words live in the pool's own small buffer, which a
 * machine's reset never touches):
 *
 *  - The harness prepares the first iteration (machine reset, host-core
 *    gate armed: prepareIteration), clears the words, and posts each CPU
 *    thread its list of tasks, one per iteration.
 *  - Every thread runs task j exactly as a single iteration would (start
 *    barrier, role, leaving the host-core gate). A thread other than CPU 0
 *    then adds itself to DONE and waits for GEN to reach j + 1 (or END).
 *  - CPU 0's thread, the leader, waits for DONE to count every other
 *    thread: only then does no thread touch the machine, so only then may it
 *    read the iteration's outcome (violations, counters) and reset the
 *    machine for the next one. It clears DONE before it publishes GEN = j + 1,
 *    so a count never mixes two iterations. After the last iteration (or the
 *    first violating one, with stopAtFirst) it sets END instead.
 *  - STOP is the harness's stop request (the first Ctrl-C): the leader ends
 *    the batch after the iteration in progress, as if it were the last.
 *  - ABORT is the harness's abandonment (CpuPool.runBatch): it is set before
 *    the machine's own ABORT word, and the leader looks at it after every
 *    reset (which clears the machine's word), so an abandonment that meets a
 *    reset is never lost. A thread that leaves because of it returns the
 *    iterations it completed; a thread that fails throws as in a single
 *    iteration, and its failure aborts the machine for the others.
 */
export const B = {
  /** The iteration index (within the batch) the threads may start. */
  GEN: 0,
  /** Threads other than the leader done with the current iteration. */
  DONE: 1,
  /** The batch ends: no iteration after the current one. */
  END: 2,
  /** The harness abandoned the batch. */
  ABORT: 3,
  /** The harness asks the batch to end after the iteration in progress (a stop request: Ctrl-C). */
  STOP: 4,
  WORDS: 5,
} as const;

/** A new control buffer (one per pool). */
export function batchControl(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(B.WORDS * 4));
}

/** Before a batch is posted (no thread waits on the words then). */
export function clearBatchControl(ctl: Int32Array): void {
  for (let w = 0; w < B.WORDS; w++) Atomics.store(ctl, w, 0);
}

/** Ask the batch in progress to end after its current iteration. */
export function stopBatch(ctl: Int32Array): void {
  Atomics.store(ctl, B.STOP, 1);
}

/** Whether the harness asked the batch to end after the current iteration. */
export function stopRequested(ctl: Int32Array): boolean {
  return Atomics.load(ctl, B.STOP) !== 0;
}

/** Abandon the batch in progress: wake every thread waiting between iterations. */
export function abortBatch(ctl: Int32Array): void {
  Atomics.store(ctl, B.ABORT, 1);
  Atomics.notify(ctl, B.GEN);
  Atomics.notify(ctl, B.DONE);
}

/** Put the machine in the state an iteration starts from: reset, seeded, the host-core gate armed (0 tokens: none). */
export function prepareIteration(machine: Machine, it: number, seed: number, coreTokens: number): void {
  machine.reset(it, seed);
  armCores(machine.i32, coreTokens);
}

/**
 * What an iteration left on the machine, read by the leader before the next
 * reset: the violation counts with the first record of each kind (what the
 * report keeps: CombinationExecution), and the counters.
 */
export interface IterationSnapshot {
  violations: { records: Violation[]; total: number; overflow: number };
  counters: CpuCounters[];
}

export function snapshot(machine: Machine): IterationSnapshot {
  return { violations: readViolationKinds(machine.i32, machine.layout), counters: Array.from({ length: machine.config.cpus }, (_, c) => machine.counters(c)) };
}

/** Spin rounds before a wait between iterations sleeps (the leader's snapshot and reset take tens of microseconds). */
const SPIN = 200;

/** Whether either party abandoned: the harness (ctl) or a failed thread (the machine). */
function aborted(ctl: Int32Array, machine: Machine): boolean {
  return Atomics.load(ctl, B.ABORT) !== 0 || Atomics.load(machine.i32, H.ABORT) !== 0;
}

/** Wait until `word` of ctl satisfies `ok`; MachineAborted on either abort. */
function await_(ctl: Int32Array, machine: Machine, word: number, ok: (v: number) => boolean): void {
  for (let i = 0; ; i++) {
    const v = Atomics.load(ctl, word);
    if (ok(v)) return;
    if (aborted(ctl, machine)) throw new MachineAborted();
    if (i >= SPIN) Atomics.wait(ctl, word, v, 50);
  }
}

/** A thread other than the leader: whether iteration j may start (false: the batch ended before it). */
export function awaitIteration(ctl: Int32Array, machine: Machine, j: number): boolean {
  await_(ctl, machine, B.GEN, (g) => g >= j || Atomics.load(ctl, B.END) !== 0);
  return Atomics.load(ctl, B.GEN) >= j;
}

/** A thread other than the leader is done with the current iteration. */
export function iterationDone(ctl: Int32Array): void {
  Atomics.add(ctl, B.DONE, 1);
  Atomics.notify(ctl, B.DONE);
}

/** The leader: wait until the `others` threads are done with the current iteration. */
export function awaitOthers(ctl: Int32Array, machine: Machine, others: number): void {
  await_(ctl, machine, B.DONE, (d) => d >= others);
}

/** The leader: start iteration j (the machine prepared for it), or end the batch (next null). */
export function startNext(ctl: Int32Array, machine: Machine, j: number, next: { it: number; seed: number; coreTokens: number } | null): void {
  if (next === null) {
    Atomics.store(ctl, B.END, 1);
    Atomics.notify(ctl, B.GEN);
    return;
  }
  prepareIteration(machine, next.it, next.seed, next.coreTokens);
  // The reset cleared the machine's ABORT word: an abandonment that came meanwhile must reach the iteration.
  if (Atomics.load(ctl, B.ABORT) !== 0) {
    machine.abort();
    throw new MachineAborted();
  }
  Atomics.store(ctl, B.DONE, 0);
  Atomics.store(ctl, B.GEN, j);
  Atomics.notify(ctl, B.GEN);
}

/** Whether a MachineAborted came from the harness abandoning the batch (then the thread returns what it completed). */
export function abandoned(ctl: Int32Array): boolean {
  return Atomics.load(ctl, B.ABORT) !== 0;
}
