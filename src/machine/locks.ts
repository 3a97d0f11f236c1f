import type { Cpu } from './cpu.js';
import { ring } from './ipi.js';
import { A, C, F, FI, type Layout } from './layout.js';
import { doorbellSleep, waitUntil } from './wait.js';

/**
 * The kernel's sleeping and spinning locks, in the shared buffer, for kernel
 * code running on several CPU threads at once (the kernel model decides which
 * lock guards what; kernel/locking.ts):
 *
 *   rw lock    mmap_lock (A.MMAP_LOCK) and a file's i_mmap_rwsem
 *              (FI.I_MMAP_LOCK): STATE = readers, or -1 for a writer;
 *              READERS (a bit per CPU) and WRITER (CPU + 1) say who holds it
 *   spinlock   the split page-table lock of a PTE table (F.PTL), the mm's
 *              page_table_lock (A.PT_LOCK), a file's page-cache lock
 *              (FI.PAGES_LOCK) and a data page's PG_locked (F.PAGE_LOCK, a
 *              sleeping lock in the kernel; every wait here sleeps after a
 *              short spin anyway): 0 free, else the holder CPU + 1
 *
 * Acquire is one compare-and-swap of the state word; the holder words are
 * written after it and cleared before the release, so a reader of them (the
 * deadlock check) never names a CPU that does not hold the lock.
 *
 * A waiter waits in wait.ts's one timed wait: it spins briefly, then sleeps
 * on its own doorbell (a release rings every CPU whose WAIT_FOR names the
 * lock), and keeps taking IPIs all along: spin_lock and down_read leave
 * interrupts on, and a holder may be waiting for this CPU's acknowledgement
 * of a flush IPI (without the poll, that is a deadlock the kernel does not
 * have). Under a controlled run's gate every round is a yield point, and
 * every acquire and release is one too, so PCT can place a switch anywhere
 * around a critical section.
 *
 * Deadlocks. A waiter publishes what it waits for (C.WAIT_FOR: a lock, or a
 * CPU whose kernel point it waits for). Following "waits for → held by"
 * from the waiter finds a cycle if there is one; in a controlled run only one
 * thread moves, so one look is exact; in a stress run a cycle is reported
 * only if a second look, a sleep later, sees the same cycle with every member
 * still in the same wait (WAIT_SERIAL unchanged): a member still in its wait
 * cannot have released what it holds, so the cycle is real. Under the gate
 * a new wait is progress (its first round): a CPU already blocked in a hold
 * gets a round to find the cycle through it, and gives way.
 *
 * Not modelled: the rwsem's fairness (a waiting writer does not hold off new
 * readers, so a writer can be starved while readers overlap; scripts are
 * finite, so the wait ends), lockdep, and preemption of a lock holder.
 */

/** A lock cycle: every member waits for a lock (or a point) another member holds. */
export class LockDeadlockError extends Error {
  constructor(message: string) {
    super(message);
    // The worker host passes DeadlockError messages on unchanged (they name the CPUs themselves).
    this.name = 'DeadlockError';
  }
}

/** A CPU waited past the watchdog for a lock nobody released. */
export class LockTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeadlockError';
  }
}

/** How long a lock or point wait may last before it is reported (ms). */
export const LOCK_TIMEOUT_MS = 30_000;

// ------------------------------------------------------------- lock words

/** The mmap_lock (rw) of address space `asid`: its STATE word. */
export function mmapLockWord(L: Layout, asid: number): number {
  return L.space(asid, A.MMAP_LOCK);
}
/** The page_table_lock (spin) of address space `asid`. */
export function ptLockWord(L: Layout, asid: number): number {
  return L.space(asid, A.PT_LOCK);
}
/** The split PTL (spin) of PTE table frame `table`. */
export function ptlWord(L: Layout, table: number): number {
  return L.frame(table, F.PTL);
}
/** The i_mmap_rwsem (rw) of file `file`. */
export function iMmapLockWord(L: Layout, file: number): number {
  return L.file(file, FI.I_MMAP_LOCK);
}
/** The page-cache lock (spin: xa_lock of i_pages) of file `file`. */
export function pagesLockWord(L: Layout, file: number): number {
  return L.file(file, FI.PAGES_LOCK);
}
/** PG_locked (lock_page) of data frame `frame`. */
export function pageLockWord(L: Layout, frame: number): number {
  return L.frame(frame, F.PAGE_LOCK);
}

const inFiles = (L: Layout, at: number): boolean => at >= L.files && at < L.files + L.cfg.files * L.fileWords;

/** What a lock word is, as reports name it. */
export function lockName(L: Layout, at: number): string {
  if (at >= L.spaces && at < L.spaces + L.cfg.addressSpaces * A.WORDS) {
    const asid = Math.floor((at - L.spaces) / A.WORDS);
    const field = (at - L.spaces) % A.WORDS;
    if (field === A.MMAP_LOCK) return `mmap_lock of mm ${asid}`;
    if (field === A.PT_LOCK) return `page_table_lock of mm ${asid}`;
  }
  if (at >= L.frameMeta && at < L.frameMeta + L.cfg.frames * F.WORDS) {
    const frame = Math.floor((at - L.frameMeta) / F.WORDS);
    const field = (at - L.frameMeta) % F.WORDS;
    if (field === F.PTL) return `PTL of PTE table frame ${frame}`;
    if (field === F.PAGE_LOCK) return `page lock of frame ${frame}`;
  }
  if (inFiles(L, at)) {
    const file = Math.floor((at - L.files) / L.fileWords);
    const field = (at - L.files) % L.fileWords;
    if (field === FI.I_MMAP_LOCK) return `i_mmap_rwsem of file ${file}`;
    if (field === FI.PAGES_LOCK) return `page-cache lock of file ${file}`;
  }
  return `lock word ${at}`;
}

const isRw = (L: Layout, at: number): boolean =>
  (at >= L.spaces && at < L.spaces + L.cfg.addressSpaces * A.WORDS && (at - L.spaces) % A.WORDS === A.MMAP_LOCK) ||
  (inFiles(L, at) && (at - L.files) % L.fileWords === FI.I_MMAP_LOCK);

/** The CPUs holding the lock at `at` now, and how ('read', 'write' or 'spin'). */
export function lockHolders(i32: Int32Array, L: Layout, at: number): { cpus: number[]; mode: 'read' | 'write' | 'spin' } {
  if (isRw(L, at)) {
    const w = Atomics.load(i32, at + (A.MMAP_WRITER - A.MMAP_LOCK));
    if (w > 0) return { cpus: [w - 1], mode: 'write' };
    const bits = Atomics.load(i32, at + (A.MMAP_READERS - A.MMAP_LOCK));
    const cpus: number[] = [];
    for (let c = 0; c < 32; c++) if (bits & (1 << c)) cpus.push(c);
    return { cpus, mode: 'read' };
  }
  const v = Atomics.load(i32, at);
  return { cpus: v > 0 ? [v - 1] : [], mode: 'spin' };
}

// ------------------------------------------------------------ the attempts

function trySpin(i32: Int32Array, at: number, self: number): boolean {
  return Atomics.compareExchange(i32, at, 0, self + 1) === 0;
}

function tryRead(i32: Int32Array, at: number, self: number): boolean {
  const n = Atomics.load(i32, at);
  if (n < 0 || Atomics.compareExchange(i32, at, n, n + 1) !== n) return false;
  Atomics.or(i32, at + (A.MMAP_READERS - A.MMAP_LOCK), 1 << self);
  return true;
}

function tryWrite(i32: Int32Array, at: number, self: number): boolean {
  if (Atomics.compareExchange(i32, at, 0, -1) !== 0) return false;
  Atomics.store(i32, at + (A.MMAP_WRITER - A.MMAP_LOCK), self + 1);
  return true;
}

// -------------------------------------------------------------- public API

/** spin_lock: take the spinlock at `at` (ptlWord / ptLockWord). */
export function spinLock(cpu: Cpu, at: number): void {
  acquire(cpu, at, () => trySpin(cpu.i32, at, cpu.id));
}
/** spin_unlock. */
export function spinUnlock(cpu: Cpu, at: number): void {
  const v = Atomics.compareExchange(cpu.i32, at, cpu.id + 1, 0);
  if (v !== cpu.id + 1) throw new Error(`CPU ${cpu.id} releases ${lockName(cpu.L, at)}, which ${v > 0 ? `CPU ${v - 1}` : 'nobody'} holds`);
  released(cpu, at);
}

/** down_read (mmap_read_lock). */
export function readLock(cpu: Cpu, at: number): void {
  acquire(cpu, at, () => tryRead(cpu.i32, at, cpu.id));
}
/** up_read. */
export function readUnlock(cpu: Cpu, at: number): void {
  const i32 = cpu.i32;
  const bit = 1 << cpu.id;
  if (!(Atomics.and(i32, at + (A.MMAP_READERS - A.MMAP_LOCK), ~bit) & bit)) throw new Error(`CPU ${cpu.id} read-unlocks ${lockName(cpu.L, at)} without holding it`);
  Atomics.sub(i32, at, 1);
  released(cpu, at);
}
/** down_write (mmap_write_lock). */
export function writeLock(cpu: Cpu, at: number): void {
  acquire(cpu, at, () => tryWrite(cpu.i32, at, cpu.id));
}
/** up_write. */
export function writeUnlock(cpu: Cpu, at: number): void {
  const i32 = cpu.i32;
  const w = at + (A.MMAP_WRITER - A.MMAP_LOCK);
  if (Atomics.load(i32, w) !== cpu.id + 1) throw new Error(`CPU ${cpu.id} write-unlocks ${lockName(cpu.L, at)} without holding it`);
  Atomics.store(i32, w, 0);
  Atomics.store(i32, at, 0);
  released(cpu, at);
}
/**
 * downgrade_write (mmap_write_downgrade): the writer becomes a reader without
 * letting another writer in between; readers waiting may now enter.
 */
export function downgradeWrite(cpu: Cpu, at: number): void {
  const i32 = cpu.i32;
  const w = at + (A.MMAP_WRITER - A.MMAP_LOCK);
  if (Atomics.load(i32, w) !== cpu.id + 1) throw new Error(`CPU ${cpu.id} downgrades ${lockName(cpu.L, at)} without holding it for write`);
  Atomics.or(i32, at + (A.MMAP_READERS - A.MMAP_LOCK), 1 << cpu.id);
  Atomics.store(i32, w, 0);
  Atomics.store(i32, at, 1);
  released(cpu, at);
}

/** Thrown inside a hold's wait to end it (the hold cannot be satisfied). */
class HoldEnds extends Error {}

/**
 * Wait until `reached()` (another CPU, `target`, has passed a kernel point),
 * taking IPIs. `what` names the point for messages; `ended()` says the
 * target can no longer reach it (its script is over).
 *
 * mode 'wait' (a script's waitPoint, between calls): a real wait; a cycle
 * through it is a deadlock, a target that ended is an error.
 * mode 'hold' (a holdPoint inside kernel code): a delay, never a deadlock: if
 * the target cannot get there (it waits, directly or not, for something this
 * CPU holds, or its script ended), the hold ends and the kernel code goes on.
 * Other CPUs' deadlock checks do not count a hold as a wait.
 */
export function waitForCpu(cpu: Cpu, target: number, point: { step: number; mask: number }, what: string, ended: () => boolean, mode: 'wait' | 'hold' = 'wait'): void {
  const hold = mode === 'hold';
  const { i32, L } = cpu;
  const at = L.point(target, point.step);
  const reached = (): boolean => (Atomics.load(i32, at) & point.mask) !== 0;
  Atomics.store(i32, L.cpu(cpu.id, C.WAIT_STEP), point.step);
  Atomics.store(i32, L.cpu(cpu.id, C.WAIT_MASK), point.mask);
  try {
    waitFor(cpu, hold ? HOLD_BASE - (target + 1) : -(target + 1), reached, `CPU ${target} to reach ${what}`, () => {
      // The end first, then the point: the target marks a point before it marks its script done, so
      // a script seen done with the point unmarked never reached it (the other order could read the
      // point just before the target reached it, and the end just after).
      const over = ended();
      if (reached() || !over) return;
      if (hold) throw new HoldEnds();
      throw new Error(`CPU ${cpu.id} waits for CPU ${target} to reach ${what}, but CPU ${target} has finished its script without reaching it`);
    }, hold);
  } catch (e) {
    if (!(e instanceof HoldEnds)) throw e;
  }
}

/** WAIT_FOR of a hold on CPU t's point: HOLD_BASE - (t + 1) (a point wait is -(t + 1), a lock its word + 1). */
const HOLD_BASE = -64;

// -------------------------------------------------------------- internals

function acquire(cpu: Cpu, at: number, attempt: () => boolean): void {
  if (!attempt()) waitFor(cpu, at + 1, attempt, lockName(cpu.L, at), null);
  cpu.yieldPoint(true);
}

function released(cpu: Cpu, at: number): void {
  const { i32, L } = cpu;
  for (let c = 0; c < L.cfg.cpus; c++) if (c !== cpu.id && Atomics.load(i32, L.cpu(c, C.WAIT_FOR)) === at + 1) ring(i32, L, c);
  cpu.yieldPoint(true);
}

/**
 * The wait itself: WAIT_FOR = `waitsFor` (lock word + 1, or -(CPU + 1)),
 * then wait.ts's wait, checking for a cycle through this CPU at every pause
 * (stress) or every round (controlled run). `attempt` may succeed only once:
 * its success is remembered.
 */
function waitFor(cpu: Cpu, waitsFor: number, attempt: () => boolean, what: string, check: (() => void) | null, hold = false): void {
  const { i32, L } = cpu;
  const self = cpu.id;
  Atomics.add(i32, L.cpu(self, C.WAIT_SERIAL), 1);
  Atomics.store(i32, L.cpu(self, C.WAIT_FOR), waitsFor);
  let got = false;
  const done = (): boolean => got || (got = attempt());
  const controlled = cpu.gate.controlling;
  let suspect: string | null = null;
  const look = (): void => {
    check?.();
    const cycle = findCycle(i32, L, self);
    if (cycle === null) suspect = null;
    else if (controlled || cycle === suspect) throw hold ? new HoldEnds() : new LockDeadlockError(`deadlock: ${cycle}`);
    else suspect = cycle;
  };
  const poll = (): boolean => {
    if (controlled) look();
    return cpu.pollIpis();
  };
  try {
    waitUntil(i32, done, {
      spin: L.cfg.spinLimit,
      poll,
      sleep: doorbellSleep(i32, L, self, done, () => cpu.pollIpis(), 1),
      // Stress: look for a cycle whenever the wait stops running (a sleep, or a hand-off of its host core).
      pause: look,
      timeoutMs: LOCK_TIMEOUT_MS,
      onTimeout: (ms) => new LockTimeoutError(`CPU ${self} waited ${Math.round(ms)} ms for ${what}${holderText(i32, L, waitsFor)}`),
      gate: cpu.gate,
      // Under the gate, the wait just published is progress: a CPU blocked in
      // a hold (or a wait) may now be in a cycle through it, and must get a
      // round to look; else every thread ends up blocked and the gate reports
      // a deadlock that a look would have ended (the hold gives way).
      announced: true,
    });
  } finally {
    Atomics.store(i32, L.cpu(self, C.WAIT_FOR), 0);
  }
}

/** The CPU a point wait or a hold (a negative C.WAIT_FOR) is for. */
function pointTarget(waitsFor: number): number {
  return waitsFor <= HOLD_BASE ? HOLD_BASE - waitsFor - 1 : -waitsFor - 1;
}

/** What a C.WAIT_FOR value means, for reports ("waiting for mmap_lock of mm 0, held (write) by CPU 1"). */
export function waitText(i32: Int32Array, L: Layout, waitsFor: number): string {
  if (waitsFor > 0) return `waiting for ${lockName(L, waitsFor - 1)}${holderText(i32, L, waitsFor)}`;
  if (waitsFor <= HOLD_BASE) return `holding a kernel point until CPU ${pointTarget(waitsFor)} reaches another`;
  return `waiting for CPU ${pointTarget(waitsFor)} to reach a kernel point`;
}

function holderText(i32: Int32Array, L: Layout, waitsFor: number): string {
  if (waitsFor < 0) return '';
  const h = lockHolders(i32, L, waitsFor - 1);
  return h.cpus.length ? `, held (${h.mode}) by CPU ${h.cpus.join(', ')}` : '';
}

/**
 * The CPUs `c` waits for now: the holders of its lock, or the CPU whose point
 * it awaits. A hold counts only as the searching CPU's own first edge
 * (`self`): to others, a holding CPU is not waiting (its hold will end).
 */
function waitsOn(i32: Int32Array, L: Layout, c: number, self: number): { on: number[]; what: string; serial: number } | null {
  const w = Atomics.load(i32, L.cpu(c, C.WAIT_FOR));
  if (w === 0) return null;
  const serial = Atomics.load(i32, L.cpu(c, C.WAIT_SERIAL));
  if (w < 0) {
    const target = pointTarget(w);
    // A point wait whose point was reached is over, though its CPU has not run to see it yet.
    if ((Atomics.load(i32, L.point(target, Atomics.load(i32, L.cpu(c, C.WAIT_STEP)))) & Atomics.load(i32, L.cpu(c, C.WAIT_MASK))) !== 0) return null;
    if (w <= HOLD_BASE) return c === self ? { on: [target], what: `holds a kernel point until CPU ${target} reaches another`, serial } : null;
    return { on: [target], what: `waits for CPU ${target} to reach a kernel point`, serial };
  }
  const h = lockHolders(i32, L, w - 1);
  return { on: h.cpus.filter((x) => x !== c), what: `waits for ${lockName(L, w - 1)} (held ${h.mode === 'spin' ? '' : `for ${h.mode} `}by CPU ${h.cpus.join(', ')})`, serial };
}

/**
 * A cycle of waits through `self`, described (each member, what it waits
 * for and who holds it, and the members' wait serials, so two looks can be
 * compared), or null.
 */
export function findCycle(i32: Int32Array, L: Layout, self: number): string | null {
  // Each member's wait as read during the search: a description made from a
  // second read could see a CPU that has moved on since.
  const path: string[] = [];
  const seen = new Set<number>();
  const dfs = (c: number): boolean => {
    const w = waitsOn(i32, L, c, self);
    if (w === null) return false;
    path.push(`CPU ${c} ${w.what} [wait ${w.serial}]`);
    seen.add(c);
    for (const n of w.on) {
      if (n === self) return true;
      if (!seen.has(n) && dfs(n)) return true;
    }
    path.pop();
    return false;
  };
  return dfs(self) ? path.join('; ') : null;
}
