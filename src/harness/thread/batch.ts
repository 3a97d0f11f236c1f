import { CoreGate, armCores } from '../../machine/cores.js';
import { Gate } from '../../machine/gate.js';
import { NO_POLL, waitUntil } from '../../machine/wait.js';
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
 *  - Every thread runs task j as a single iteration would (start barrier,
 *    role), except that under the host-core gate it keeps its core when the
 *    task ends (batchGate below): the reset between two iterations leaves
 *    the gate's words alone, and the waits between iterations hand cores on
 *    as the machine's own waits do. A thread other than CPU 0 then adds
 *    itself to DONE and waits for GEN to reach j + 1 (or END); every thread
 *    leaves the gate when the batch ends.
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

/**
 * Put the machine in the state an iteration starts from: reset, seeded, the
 * host-core gate armed (0 tokens: none). With `keepCores` (between two
 * iterations of a gated batch, whose threads hold or wait for cores
 * meanwhile) the gate stays as it is: armed already, and in use.
 */
export function prepareIteration(machine: Machine, it: number, seed: number, coreTokens: number, keepCores = false): void {
  machine.reset(it, seed, keepCores);
  if (!keepCores) armCores(machine.i32, coreTokens);
}

/**
 * What an iteration left on the machine, read by the leader before the next
 * reset: the violation counts with the first record of each kind (what the
 * report keeps: CombinationExecution), and the counters.
 */
export interface IterationSnapshot {
  violations: { records: Violation[]; total: number; overflow: number };
  counters: CpuCounters[];
  /** When the leader took it (its thread's performance.now(): only differences between snapshots of one batch mean anything). */
  at: number;
}

export function snapshot(machine: Machine): IterationSnapshot {
  return { violations: readViolationKinds(machine.i32, machine.layout), counters: Array.from({ length: machine.config.cpus }, (_, c) => machine.counters(c)), at: performance.now() };
}

/** Spin rounds before a wait between iterations sleeps (the leader's snapshot and reset take tens of microseconds). */
const SPIN = 200;

/** Whether either party abandoned: the harness (ctl) or a failed thread (the machine). */
function aborted(ctl: Int32Array, machine: Machine): boolean {
  return Atomics.load(ctl, B.ABORT) !== 0 || Atomics.load(machine.i32, H.ABORT) !== 0;
}

/**
 * Wait until `word` of ctl satisfies `ok`; MachineAborted on either abort.
 * Under the host-core gate (`gate`: the batch's own, which the thread keeps
 * from one iteration to the next) the wait is the machine's waitUntil: it
 * hands its core to a queued thread (CPU `awaited` first) rather than
 * sleeping, and sleeps holding no core only when nobody is queued.
 */
function await_(ctl: Int32Array, machine: Machine, word: number, ok: (v: number) => boolean, gate: Gate | null, awaited: number): void {
  if (gate !== null) {
    const done = (): boolean => ok(Atomics.load(ctl, word)) || aborted(ctl, machine);
    waitUntil(machine.i32, done, {
      spin: SPIN,
      poll: NO_POLL,
      sleep: () => {
        const v = Atomics.load(ctl, word);
        if (!ok(v)) Atomics.wait(ctl, word, v, 50);
      },
      // No watchdog between iterations (a wait here ends with the leader's reset, or an abort).
      timeoutMs: Infinity,
      onTimeout: () => new Error('unreachable'),
      gate,
      awaited: () => awaited,
    });
    if (aborted(ctl, machine)) throw new MachineAborted();
    return;
  }
  for (let i = 0; ; i++) {
    const v = Atomics.load(ctl, word);
    if (ok(v)) return;
    if (aborted(ctl, machine)) throw new MachineAborted();
    if (i >= SPIN) Atomics.wait(ctl, word, v, 50);
  }
}

/**
 * The host-core gate a thread keeps across the iterations of a batch (null:
 * the batch is not gated). Kept, not taken and given back per iteration: a
 * thread that left the gate between iterations slept outside it, and the
 * leader's start of the next iteration woke every other thread at once, each
 * a wake-up the host's scheduler may place behind a busy core (measured at 4
 * CPUs on 2 cores: the start barrier took 1.6 ms of a 3.3 ms iteration).
 * Kept, every change of hands between iterations is a hand-off too.
 */
export function batchGate(machine: Machine, cpu: number): { cores: CoreGate; gate: Gate } | null {
  if (Atomics.load(machine.i32, H.CORE_TOKENS) === 0) return null;
  const cores = new CoreGate(machine.i32, machine.layout, cpu);
  const gate = new Gate(machine.i32, machine.layout, cpu);
  gate.cores = cores;
  return { cores, gate };
}

/** A thread other than the leader: whether iteration j may start (false: the batch ended before it). */
export function awaitIteration(ctl: Int32Array, machine: Machine, j: number, gate: Gate | null = null): boolean {
  await_(ctl, machine, B.GEN, (g) => g >= j || Atomics.load(ctl, B.END) !== 0, gate, 0);
  return Atomics.load(ctl, B.GEN) >= j;
}

/** A thread other than the leader is done with the current iteration. */
export function iterationDone(ctl: Int32Array): void {
  Atomics.add(ctl, B.DONE, 1);
  Atomics.notify(ctl, B.DONE);
}

/** The leader: wait until the `others` threads are done with the current iteration. */
export function awaitOthers(ctl: Int32Array, machine: Machine, others: number, gate: Gate | null = null): void {
  await_(ctl, machine, B.DONE, (d) => d >= others, gate, -1);
}

/** The leader: start iteration j (the machine prepared for it), or end the batch (next null). */
export function startNext(ctl: Int32Array, machine: Machine, j: number, next: { it: number; seed: number; coreTokens: number } | null): void {
  if (next === null) {
    Atomics.store(ctl, B.END, 1);
    Atomics.notify(ctl, B.GEN);
    return;
  }
  prepareIteration(machine, next.it, next.seed, next.coreTokens, next.coreTokens > 0);
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
