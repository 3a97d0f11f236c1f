import { FlushKind } from './constants.js';
import type { Cpu } from './cpu.js';
import { IpiState, acked, ipiTimeout, post, tryClaim, waitUntil } from './ipi.js';
import { C, H, K, M, type Layout } from './layout.js';
import { Ev } from './recorder.js';
import { MachineAborted } from './sync.js';
import { type FlushRequest, invalidateCpu } from './tlb.js';

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
 */
export class FlushInitiator {
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly L: Layout;
  private readonly id: number;
  private readonly ctr: number;
  /** Sequence numbers of the IPIs in flight, by target. */
  private readonly seqs = new Int32Array(32);
  private readonly pollFn: () => boolean;
  private readonly noPoll = (): boolean => false;

  constructor(private readonly cpu: Cpu) {
    this.i32 = cpu.i32;
    this.f64 = cpu.f64;
    this.L = cpu.L;
    this.id = cpu.id;
    this.ctr = this.L.counter(this.id, 0);
    this.pollFn = (): boolean => cpu.pollIpis();
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
    const fl = this.L.cfg.flush;
    if (fl === 'broadcast' || (fl === 'range-broadcast' && r.kind === FlushKind.RANGE)) this.broadcast(r);
    else this.ipiMany(mask & ~(1 << this.id), r);
    if (cpu.rec !== null) cpu.rec.ev(Ev.FLUSH_DONE, r.kind);
  }

  /** Flush only this CPU's caches (local_flush_tlb_*). */
  flushLocal(r: FlushRequest): void {
    invalidateCpu(this.i32, this.L, this.id, r, true);
    this.f64[this.ctr + K.localFlushes]++;
  }

  /**
   * An IPI that invalidates nothing (tlb_remove_table_sync_one): returns once
   * every CPU of mask has passed an interrupts-enabled instruction boundary.
   */
  syncIpi(mask: number): void {
    this.f64[this.ctr + K.syncIpisSent]++;
    this.ipiMany(mask & ~(1 << this.id), { kind: FlushKind.SYNC, asid: 0, start: 0, end: 0, which: 0 });
  }

  /** Post r to every CPU of targets and wait for each acknowledgement. */
  ipiMany(targets: number, r: FlushRequest): void {
    const { i32, L, seqs, cpu } = this;
    const n = L.cfg.cpus;
    const wasRunning = cpu.quiesce();
    const poll = cpu.irq ? this.pollFn : this.noPoll;
    try {
      for (let t = 0; t < n; t++) {
        if (!(targets & (1 << t))) continue;
        let seq = tryClaim(i32, L, t);
        if (seq < 0) seq = this.waitClaim(t, poll);
        seqs[t] = seq;
        const serial = ++this.f64[this.ctr + K.ipisSent];
        post(i32, L, this.id, t, r, seq, serial);
        if (cpu.rec !== null) cpu.rec.ev(Ev.IPI_SEND, t, serial, r.kind);
        cpu.yieldPoint(true);
      }
      for (let t = 0; t < n; t++) {
        if (!(targets & (1 << t))) continue;
        const seq = seqs[t];
        let done = false;
        if (!cpu.gate.controlling) for (let i = 0; i < L.cfg.spinLimit && !(done = acked(i32, L, t, seq)); i++) poll();
        if (done) continue;
        Atomics.store(i32, L.cpu(this.id, C.WAITING_ON), t + 1);
        waitUntil(i32, L, this.id, () => acked(i32, L, t, seq), poll, L.cfg.ipiTimeoutMs, (ms) => ipiTimeout(i32, this.f64, L, this.id, t, ms), cpu.gate);
        Atomics.store(i32, L.cpu(this.id, C.WAITING_ON), 0);
      }
    } finally {
      if (wasRunning) cpu.resume();
    }
  }

  /** Wait until `target`'s inbox can be claimed and claim it, taking own IPIs meanwhile. */
  private waitClaim(target: number, poll: () => boolean): number {
    const { i32, L, cpu } = this;
    if (cpu.gate.controlling) {
      for (;;) {
        const progressed = poll();
        const seq = tryClaim(i32, L, target);
        if (seq >= 0) return seq;
        cpu.gate.point(progressed);
      }
    }
    const stateAt = L.inbox(target, M.STATE);
    const waitersAt = L.inbox(target, M.WAITERS);
    for (let i = 0; i < L.cfg.spinLimit; i++) {
      poll();
      const seq = tryClaim(i32, L, target);
      if (seq >= 0) return seq;
    }
    const t0 = performance.now();
    for (;;) {
      poll();
      const seq = tryClaim(i32, L, target);
      if (seq >= 0) return seq;
      if (Atomics.load(i32, H.ABORT) !== 0) throw new MachineAborted();
      const waited = performance.now() - t0;
      if (waited > L.cfg.ipiTimeoutMs) throw ipiTimeout(i32, this.f64, L, Atomics.load(i32, L.inbox(target, M.SENDER)), target, waited);
      Atomics.add(i32, waitersAt, 1);
      const v = Atomics.load(i32, stateAt);
      // Short sleeps: this CPU's own inbox may fill meanwhile and must be served.
      if ((v & 3) === IpiState.CLAIMED || (v & 3) === IpiState.POSTED) Atomics.wait(i32, stateAt, v, 1);
      Atomics.sub(i32, waitersAt, 1);
    }
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

  private waitEpoch(c: number, at: number, e: number): void {
    const { i32, L, cpu } = this;
    if (cpu.gate.controlling) {
      // Announce the wait: until that CPU passes a quiescence point, its steps
      // count as progress (so it runs although its workload is done).
      Atomics.store(i32, L.cpu(c, C.EPOCH_WATCHED), e);
      Atomics.add(i32, L.cpu(c, C.EPOCH_WATCHERS), 1);
      try {
        // The announcement itself is progress: it made the watched CPU runnable.
        let progressed = true;
        while (Atomics.load(i32, at) === e) {
          cpu.gate.point(progressed);
          progressed = cpu.pollIpis();
        }
      } finally {
        Atomics.sub(i32, L.cpu(c, C.EPOCH_WATCHERS), 1);
      }
      return;
    }
    for (let i = 0; i < L.cfg.spinLimit; i++) if (Atomics.load(i32, at) !== e) return;
    const watchers = L.cpu(c, C.EPOCH_WATCHERS);
    const t0 = performance.now();
    Atomics.add(i32, watchers, 1);
    try {
      while (Atomics.load(i32, at) === e) {
        if (Atomics.load(i32, H.ABORT) !== 0) throw new MachineAborted();
        const waited = performance.now() - t0;
        if (waited > L.cfg.ipiTimeoutMs) {
          throw new Error(`CPU ${c} did not complete the instruction in flight during a broadcast invalidation from CPU ${this.id} within ${(waited / 1000).toFixed(1)} s`);
        }
        Atomics.wait(i32, at, e, 50);
      }
    } finally {
      Atomics.sub(i32, watchers, 1);
    }
  }
}
