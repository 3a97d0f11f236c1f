import type { MachineConfig } from './config.js';
import { FlushKind, Which } from './constants.js';
import { CoreState } from './cores.js';
import type { Cpu } from './cpu.js';
import { IpiState, ackedIn, handlePosted, ipiTimeout, post, tryClaim } from './ipi.js';
import { C, H, K, M, type Layout } from './layout.js';
import { Ev } from './recorder.js';
import { type FlushRequest, invalidateCpu } from './tlb.js';
import { NO_POLL, type WaitOptions, doorbellSleep, waitUntil } from './wait.js';

/**
 * Odds (1 in 2^n) that an IPI sender leaves a queued target to take its IPI
 * itself (takeForTarget): the target then gets the sender's core and runs on
 * for up to a quantum after its handler, as it did before the sender could
 * take IPIs for it. shift-arg-pages at 9 CPUs needs those steps: right after
 * move_page_tables' flush, before free_pgd_range, a target refills the walk
 * cache. Taking every IPI for the target lowered arm-2.6.37 / arm11mpcore
 * there from 90% of iterations caught to 60% (40 iterations, twice);
 * taking half of them keeps 75-93% (the build before: 85-95% in the same
 * runs), with the shootdown p50 at 4 CPUs 43-81 µs over the session's
 * bench runs rather than about 100.
 */
const PROXY_SKIP_ODDS = 1;

/** Whether a flush of `kind` goes by hardware broadcast on this machine (else by IPI to the mask). */
export function flushBroadcasts(cfg: Pick<MachineConfig, 'flush'>, kind: number): boolean {
  return cfg.flush === 'broadcast' || (cfg.flush === 'range-broadcast' && kind === FlushKind.RANGE);
}

/**
 * The initiator side of TLB flushes: "make the other CPUs drop their
 * translations, and wait until none can use one any more". One per Cpu
 * (Cpu.flusher), in the thread that plays that CPU; Cpu.flush, flushLocal,
 * syncIpi and ipiMany delegate here.
 *
 * Two ways, as the machine is configured (cfg.flush):
 *
 * By IPI ('ipi'; whole-mm and global flushes under 'range-broadcast'). The
 * initiator invalidates its own caches, then posts the request to the inbox
 * of every other CPU of the mask and waits for each acknowledgement (the
 * mailbox protocol is in ipi.ts: claim, post, the target's DONE, recognised by
 * sequence). A target takes IPIs only between instructions with interrupts
 * enabled, and applies the invalidation before it acknowledges; so when the
 * initiator has every acknowledgement, no target has an instruction in flight
 * that used an invalidated translation, and none can make a new one from the
 * page-table entries the kernel cleared before it flushed. While it waits
 * (to claim an inbox or for DONE) the initiator keeps taking its own IPIs
 * when its interrupts are enabled, as smp_call_function requires, so CPUs
 * IPI-ing each other cannot deadlock; it is quiescent meanwhile (its EPOCH
 * even), so a broadcast initiator never waits for it either.
 *
 * By hardware broadcast ('broadcast'; ranges under 'range-broadcast'). The
 * initiator drops the entries in every other CPU's caches itself (a
 * compare-and-swap of each matching tag to zero, tlb.ts), then waits until
 * every CPU has passed a quiescence point: each CPU publishes an EPOCH word,
 * odd while it executes, changed at least every `quantum` instructions and
 * between the steps of a multi-step software operation (gup_fast), even when
 * it is not executing at all. The initiator waits until every other CPU's
 * EPOCH is even or has changed: like the DSB after a broadcast TLBI, that
 * waits for memory accesses that used the old translations to complete, but
 * not for a software walker with interrupts off (gup-fast.ts: that is race
 * 5.4, and what the kernel's gup_fast protection is for).
 *
 * Ordering invariants:
 * - the kernel clears the page-table entries before it flushes, and an
 *   invalidation (local, IPI handler or broadcast) clears the page-table entry
 *   before it scans the caches; a filler re-reads the entry after publishing
 *   its fill (cpu.ts), so no fill made from a cleared entry survives the flush;
 * - every access to an inbox's STATE and to EPOCH is sequentially consistent:
 *   the target's invalidation happens-before its DONE, DONE (or the changed
 *   EPOCH) happens-before the initiator's return, and so before the kernel's
 *   free of the pages or tables that follows the flush;
 * - the initiator's own caches are invalidated first, before any remote work,
 *   and it quiesces while it waits (an initiator waiting for another is never
 *   itself the CPU someone waits for an instruction boundary of).
 * Every wait here is wait.ts's waitUntil: brief spin, then short sleeps on the
 * word the awaited CPU notifies; under a controlled run every round a yield
 * point instead.
 */
export class FlushInitiator {
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly L: Layout;
  private readonly id: number;
  private readonly ctr: number;
  /** Sequence numbers of the IPIs in flight, by target. */
  private readonly seqs = new Int32Array(32);
  /** By target: the inbox STATE this CPU last saw it acknowledge with (tryClaim's guess). */
  private readonly lastSeen = new Int32Array(32);
  private readonly waitingOnAt: number;
  private readonly poll: () => boolean;

  // The waits' conditions and options, made once (no allocation per IPI):
  // the CPU and sequence the wait in progress is about are fields.
  private target = 0;
  private seq = 0;
  /** The target's inbox STATE word, and the value the ack wait read there last. */
  private ackAt = 0;
  private seen = 0;
  private claimed = -1;
  private epochAt = 0;
  private epochSeen = 0;
  private readonly ackedFn = (): boolean => ackedIn((this.seen = Atomics.load(this.i32, this.ackAt)), this.seq);
  private readonly claimFn = (): boolean => (this.claimed = tryClaim(this.i32, this.L, this.target)) >= 0;
  private readonly epochMovedFn = (): boolean => Atomics.load(this.i32, this.epochAt) !== this.epochSeen;
  /** The awaited CPU's published step count, for the watchdogs (wait.ts progressOf). */
  private readonly targetSteps = (): number => this.f64[this.L.counter(this.target, K.stepNow)];
  private readonly ackWait: WaitOptions;
  private readonly claimWait: WaitOptions;
  private readonly epochWait: WaitOptions;
  /** The same, for a CPU queued for a host core with its EPOCH odd: no spinning against it. */
  private readonly epochWaitOffCore: WaitOptions;
  private readonly epochWaitGated: WaitOptions;
  // takeForTarget: whether the request in flight may be taken for its target
  // (proxyOk), whether it is, for the target the ack wait is about (proxyThis),
  // and the request as read from the target's inbox.
  private proxyOk = false;
  private proxyThis = false;
  private readonly proxyReq: FlushRequest = { kind: 0, asid: 0, start: 0, end: 0, which: 0 };
  private readonly applyForTarget = (r: FlushRequest): void => void invalidateCpu(this.i32, this.L, this.target, r, false);

  constructor(private readonly cpu: Cpu) {
    const i32 = (this.i32 = cpu.i32);
    this.f64 = cpu.f64;
    const L = (this.L = cpu.L);
    const id = (this.id = cpu.id);
    this.ctr = L.counter(id, 0);
    this.waitingOnAt = L.cpu(id, C.WAITING_ON);
    this.poll = (): boolean => cpu.pollIpis();
    const spin = L.cfg.spinLimit;
    const timeoutMs = L.cfg.ipiTimeoutMs;
    const bell = doorbellSleep(i32, L, id, this.ackedFn, this.poll);
    this.ackWait = {
      spin,
      // Its own IPIs, then the target's if it is stalled off its core (takeForTarget).
      poll: () => cpu.pollIpis() || this.takeForTarget(),
      // The target rings this CPU's doorbell with its DONE.
      sleep: (ms) => {
        Atomics.store(i32, this.waitingOnAt, this.target + 1);
        bell(ms);
      },
      timeoutMs,
      onTimeout: (ms) => ipiTimeout(i32, this.f64, L, id, this.target, ms),
      progressOf: this.targetSteps,
      gate: cpu.gate,
      awaited: () => this.target,
      soon: true,
    };
    this.claimWait = {
      spin,
      poll: this.poll,
      // A target that takes an IPI notifies STATE when WAITERS is non-zero.
      // Short sleeps: this CPU's own inbox may fill meanwhile and must be served.
      sleep: () => {
        const stateAt = L.inbox(this.target, M.STATE);
        const waitersAt = L.inbox(this.target, M.WAITERS);
        Atomics.add(i32, waitersAt, 1);
        const v = Atomics.load(i32, stateAt);
        if ((v & 3) === IpiState.CLAIMED || (v & 3) === IpiState.POSTED) Atomics.wait(i32, stateAt, v, 1);
        Atomics.sub(i32, waitersAt, 1);
      },
      timeoutMs,
      onTimeout: (ms) => ipiTimeout(i32, this.f64, L, Atomics.load(i32, L.inbox(this.target, M.SENDER)), this.target, ms),
      progressOf: this.targetSteps,
      gate: cpu.gate,
      // The inbox frees when its target takes the IPI in it.
      awaited: () => this.target,
      soon: true,
    };
    const epochTimeout = (ms: number): Error =>
      new Error(`CPU ${this.target} did not complete the instruction in flight during a broadcast invalidation from CPU ${id} within ${(ms / 1000).toFixed(1)} s`);
    this.epochWait = {
      spin,
      // A stress-run broadcast initiator takes no IPIs while it waits (it
      // never did; nothing needs it to: a CPU that IPIs it is quiescent).
      poll: NO_POLL,
      // The CPU notifies EPOCH at its next quiescence point when it has watchers.
      sleep: () => {
        const watchers = L.cpu(this.target, C.EPOCH_WATCHERS);
        Atomics.add(i32, watchers, 1);
        if (Atomics.load(i32, this.epochAt) === this.epochSeen) Atomics.wait(i32, this.epochAt, this.epochSeen, 50);
        Atomics.sub(i32, watchers, 1);
      },
      timeoutMs,
      onTimeout: epochTimeout,
      progressOf: this.targetSteps,
      gate: cpu.gate,
      // A CPU with an odd EPOCH is on a host core (cpu.ts handOverCore),
      // except one stalled inside a walk (cpu.ts walkWindow: epochWaitOffCore).
      awaitsRunning: true,
    };
    this.epochWaitOffCore = { ...this.epochWait, awaitsRunning: false };
    // Controlled runs: the wait is announced first (see waitEpoch), which is
    // progress; the rounds after take this CPU's IPIs.
    this.epochWaitGated = { ...this.epochWait, poll: this.poll, announced: true };
  }

  /**
   * flush_tlb_*: invalidate `r` on this CPU and on the others, by IPI to the
   * CPUs of `mask` (the address space's cpumask) or by hardware broadcast to
   * every CPU, as the machine is configured ('range-broadcast': ranges by
   * broadcast, whole-mm and global flushes by IPI). Returns when no CPU can
   * use an invalidated translation any more and no access through one is in
   * flight.
   */
  flush(r: FlushRequest, mask: number): void {
    const cpu = this.cpu;
    if (cpu.rec !== null) cpu.rec.ev(Ev.FLUSH, r.kind, r.start, r.end);
    invalidateCpu(this.i32, this.L, this.id, r, true);
    this.f64[this.ctr + K.localFlushes]++;
    cpu.yieldPoint(true);
    if (flushBroadcasts(this.L.cfg, r.kind)) this.broadcast(r);
    else this.ipiMany(mask & ~(1 << this.id), r);
    if (cpu.rec !== null) cpu.rec.ev(Ev.FLUSH_DONE, r.kind, r.which);
  }

  /** Flush only this CPU's caches (local_flush_tlb_*). */
  flushLocal(r: FlushRequest): void {
    invalidateCpu(this.i32, this.L, this.id, r, true);
    this.f64[this.ctr + K.localFlushes]++;
  }

  /**
   * An IPI that invalidates nothing (tlb_remove_table_sync_one): returns once
   * every CPU of mask has passed an interrupts-enabled instruction boundary.
   * `which` may carry Which.LAZY_LEAVE (a lazy CPU leaves the mm on it).
   */
  syncIpi(mask: number, which = 0): void {
    this.f64[this.ctr + K.syncIpisSent]++;
    this.ipiMany(mask & ~(1 << this.id), { kind: FlushKind.SYNC, asid: 0, start: 0, end: 0, which });
  }

  /**
   * Under the host-core gate, while waiting for the acknowledgement of an
   * IPI whose target is queued for a host core at its run loop's quantum
   * boundary (interrupts enabled, no instruction in flight): take the IPI
   * on its behalf, with the target held out of the queue meanwhile
   * (cores.ts borrow), exactly as its own handler would have taken it at
   * that boundary: the invalidation (as a remote one: compare-and-swap of
   * each matching tag), the acknowledgement, its ipisReceived count. The
   * hand-back goes through the gate's lock, and the target executes again
   * only after a grant under that lock: its next lookups see the dropped
   * entries. Why: a target off its core otherwise needs two hand-overs
   * before the sender can go on, and a shootdown to 3 CPUs on 2 cores took
   * about 100 µs. Not for a request that makes the target leave a lazy mm
   * (its handler changes state the target keeps in its own thread), nor
   * in a traced iteration (the target records its own handling).
   */
  private takeForTarget(): boolean {
    if (!this.proxyThis || !this.cpu.cores.holding) return false;
    const { i32, L } = this;
    const t = this.target;
    if (Atomics.load(i32, L.cpu(t, C.CORE_INTERRUPTIBLE)) === 0 || !this.cpu.cores.borrow(t)) return false;
    let n = 0;
    try {
      n = handlePosted(i32, L, t, this.proxyReq, this.applyForTarget);
      this.f64[L.counter(t, K.ipisReceived)] += n;
    } finally {
      this.cpu.cores.giveBack(t);
    }
    return n > 0;
  }

  /** Post r to every CPU of targets and wait for each acknowledgement. */
  ipiMany(targets: number, r: FlushRequest): void {
    const { i32, L, seqs, cpu } = this;
    const n = L.cfg.cpus;
    this.proxyOk = (r.which & Which.LAZY_LEAVE) === 0 && cpu.rec === null;
    const wasRunning = cpu.quiesce();
    try {
      for (let t = 0; t < n; t++) {
        if (!(targets & (1 << t))) continue;
        let seq = tryClaim(i32, L, t, this.lastSeen[t]);
        if (seq < 0) seq = this.waitClaim(t);
        seqs[t] = seq;
        const serial = ++this.f64[this.ctr + K.ipisSent];
        post(i32, L, this.id, t, r, seq, serial);
        if (cpu.rec !== null) cpu.rec.ev(Ev.IPI_SEND, t, serial, r.kind);
        cpu.yieldPoint(true);
      }
      for (let t = 0; t < n; t++) {
        if (!(targets & (1 << t))) continue;
        this.target = t;
        this.proxyThis = this.proxyOk && !cpu.cores.chance(PROXY_SKIP_ODDS);
        this.seq = seqs[t];
        this.ackAt = L.inbox(t, M.STATE);
        // Whom this CPU waits for, for a controlled run's deadlock report (a
        // stress run's wait records it once it sleeps, see ackWait).
        if (cpu.gate.controlling) Atomics.store(i32, this.waitingOnAt, t + 1);
        waitUntil(i32, this.ackedFn, this.ackWait);
        this.lastSeen[t] = this.seen;
        // Only this CPU writes its WAITING_ON: a plain load sees its own last store.
        if (i32[this.waitingOnAt] !== 0) Atomics.store(i32, this.waitingOnAt, 0);
      }
    } finally {
      if (wasRunning) cpu.resume();
    }
  }

  /** Wait until `target`'s inbox can be claimed and claim it, taking own IPIs meanwhile. */
  private waitClaim(target: number): number {
    this.target = target;
    this.claimed = -1;
    waitUntil(this.i32, this.claimFn, this.claimWait);
    return this.claimed;
  }

  /**
   * Hardware-broadcast invalidation: the initiator drops the entries in every
   * other CPU's caches itself, then waits, as the DSB after a broadcast TLBI
   * does, until each CPU has no instruction in flight that began before.
   */
  private broadcast(r: FlushRequest): void {
    const { i32, L, cpu } = this;
    const n = L.cfg.cpus;
    this.f64[this.ctr + K.broadcastsSent]++;
    for (let c = 0; c < n; c++) {
      if (c === this.id) continue;
      invalidateCpu(i32, L, c, r, false);
      cpu.yieldPoint(true);
    }
    // Every drop above happens-before this write, and this write
    // happens-before the SC read of it that each CPU makes right after it
    // publishes an EPOCH this initiator sees below (cpu.ts publishEpoch): a
    // CPU that passed that quiescence point looks up its TLB with plain loads
    // and still cannot find a dropped entry.
    Atomics.add(i32, H.BROADCAST_SEQ, 1);
    const wasRunning = cpu.quiesce();
    try {
      for (let c = 0; c < n; c++) {
        if (c === this.id) continue;
        const at = L.cpu(c, C.EPOCH);
        const e = Atomics.load(i32, at);
        if ((e & 1) === 0) continue;
        this.waitEpoch(c, at, e);
      }
    } finally {
      if (wasRunning) cpu.resume();
    }
  }

  /** Wait until CPU c's EPOCH (at `at`) is no longer `e`: it passed a quiescence point. */
  private waitEpoch(c: number, at: number, e: number): void {
    const { i32, L } = this;
    this.target = c;
    this.epochAt = at;
    this.epochSeen = e;
    if (!this.cpu.gate.controlling) {
      const offCore = Atomics.load(i32, L.cpu(c, C.CORE_STATE)) === CoreState.QUEUED;
      waitUntil(i32, this.epochMovedFn, offCore ? this.epochWaitOffCore : this.epochWait);
      return;
    }
    // Announce the wait: until that CPU passes a quiescence point, its steps
    // count as progress (so it runs although its workload is done).
    Atomics.store(i32, L.cpu(c, C.EPOCH_WATCHED), e);
    Atomics.add(i32, L.cpu(c, C.EPOCH_WATCHERS), 1);
    try {
      // The announcement itself is progress: it made the watched CPU runnable.
      waitUntil(i32, this.epochMovedFn, this.epochWaitGated);
    } finally {
      Atomics.sub(i32, L.cpu(c, C.EPOCH_WATCHERS), 1);
    }
  }
}
