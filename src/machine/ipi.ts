import { CPU_OP_NAMES } from './constants.js';
import { IpiTimeoutError } from './errors.js';
import { C, K, M, type Layout } from './layout.js';
import type { FlushRequest } from './tlb.js';

/**
 * IPIs. Each target CPU has one inbox line holding one request at a time. Its
 * STATE word is (sequence << 2) | state, state one of IpiState:
 *
 *   sender: CAS STATE from FREE or DONE to CLAIMED (wait while another sender
 *           holds it) → write the request fields → STATE = (seq+1, POSTED) →
 *           wait until STATE shows its sequence DONE, or any later sequence.
 *   target: at an instruction boundary with interrupts enabled, sees POSTED →
 *           reads the fields → applies the request → STATE = (seq, DONE) →
 *           rings the sender if it sleeps, wakes senders waiting to claim.
 *
 * A DONE inbox is free for the next sender at once: the previous sender
 * recognises its acknowledgement by sequence even if another request has
 * been posted since. So one IPI is: the claim (the line comes to the sender),
 * the target's read, the target's DONE, the sender's read: the same four
 * line transfers as a raw ping-pong.
 *
 * Every access to STATE is sequentially consistent (Atomics): the fields are
 * written before POSTED and read after it, the target's work is done before
 * DONE and the sender acts on nothing before it sees DONE. A sender waiting
 * to claim or for DONE keeps taking its own IPIs when its interrupts are
 * enabled, as smp_call_function requires, so CPUs IPI-ing each other cannot
 * deadlock. The sender side is flush-initiator.ts; its waits are wait.ts's.
 */
export const IpiState = { FREE: 0, CLAIMED: 1, POSTED: 2, DONE: 3 } as const;

/** Make `cpu` notice a change it may be sleeping on. */
export function ring(i32: Int32Array, L: Layout, cpu: number): void {
  // Whoever calls this has already made the awaited condition true (an SC
  // store). A waiter (wait.ts doorbellSleep) announces SLEEPING before it
  // samples DOORBELL and re-checks the condition, so if SLEEPING reads 0 here
  // the waiter will see the condition itself: only a sleeper needs the bump
  // and the notify.
  if (Atomics.load(i32, L.cpu(cpu, C.SLEEPING)) !== 0) {
    Atomics.add(i32, L.cpu(cpu, C.DOORBELL), 1);
    Atomics.notify(i32, L.cpu(cpu, C.DOORBELL));
  }
}

/** Whether `target` has a request waiting to be taken. */
export function ipiPosted(i32: Int32Array, L: Layout, target: number): boolean {
  return (Atomics.load(i32, L.inbox(target, M.STATE)) & 3) === IpiState.POSTED;
}

/**
 * Try to claim `target`'s inbox; returns the sequence number the post will
 * carry, or -1. `guess` is the STATE value the caller expects (the DONE it
 * last saw there): when it is right, the claim is one compare-and-swap, with
 * no load first; when not, the swap's result is the value to try again with.
 */
export function tryClaim(i32: Int32Array, L: Layout, target: number, guess = -1): number {
  const at = L.inbox(target, M.STATE);
  let v = guess;
  if ((v & 3) === IpiState.FREE || (v & 3) === IpiState.DONE) {
    const seen = Atomics.compareExchange(i32, at, v, (v & ~3) | IpiState.CLAIMED);
    if (seen === v) return ((v >>> 2) + 1) & 0x3fffffff;
    v = seen;
  } else v = Atomics.load(i32, at);
  const st = v & 3;
  if (st !== IpiState.FREE && st !== IpiState.DONE) return -1;
  if (Atomics.compareExchange(i32, at, v, (v & ~3) | IpiState.CLAIMED) !== v) return -1;
  return ((v >>> 2) + 1) & 0x3fffffff;
}

/**
 * Fill a claimed inbox and post it as sequence `seq`. The fields are plain
 * stores: the sequentially consistent store of POSTED publishes them, and
 * the target's sequentially consistent load that sees POSTED synchronises
 * with it, so its plain loads of the fields that follow see these values
 * (the ECMAScript memory model's happens-before through an SC write-read).
 */
export function post(i32: Int32Array, L: Layout, sender: number, target: number, r: FlushRequest, seq: number, serial: number): void {
  const b = L.inbox(target, 0);
  i32[b + M.SENDER] = sender;
  i32[b + M.KIND] = r.kind;
  i32[b + M.ASID] = r.asid;
  i32[b + M.START] = r.start;
  i32[b + M.END] = r.end;
  i32[b + M.WHICH] = r.which;
  i32[b + M.SERIAL] = serial;
  Atomics.store(i32, b + M.STATE, (seq << 2) | IpiState.POSTED);
  ring(i32, L, target);
}

/**
 * Take the request posted to `target`, if any: `apply` it (with a request
 * object reused across calls), acknowledge, wake the sender and any sender
 * waiting to claim. Returns 1 if a request was handled, else 0.
 */
export function handlePosted(i32: Int32Array, L: Layout, target: number, r: FlushRequest, apply: (r: FlushRequest) => void): number {
  const b = L.inbox(target, 0);
  const v = Atomics.load(i32, b + M.STATE);
  if ((v & 3) !== IpiState.POSTED) return 0;
  // Plain loads after the SC load that saw POSTED: see post().
  const sender = i32[b + M.SENDER];
  r.kind = i32[b + M.KIND];
  r.asid = i32[b + M.ASID];
  r.start = i32[b + M.START];
  r.end = i32[b + M.END];
  r.which = i32[b + M.WHICH];
  apply(r);
  Atomics.store(i32, b + M.STATE, (v & ~3) | IpiState.DONE);
  ring(i32, L, sender);
  if (Atomics.load(i32, b + M.WAITERS) !== 0) Atomics.notify(i32, b + M.STATE);
  return 1;
}

/**
 * Whether inbox STATE value `v` (read with an SC load) shows the request the
 * sender posted as `seq` acknowledged.
 */
export function ackedIn(v: number, seq: number): boolean {
  const later = (((v >>> 2) - seq) << 2) >> 2; // sequence difference, wrap-safe
  return later > 0 || (later === 0 && (v & 3) === IpiState.DONE);
}

/** The stuck-CPU error for an unacknowledged IPI from sender to target. */
export function ipiTimeout(i32: Int32Array, f64: Float64Array, L: Layout, sender: number, target: number, waitedMs: number): IpiTimeoutError {
  const serial = Atomics.load(i32, L.inbox(target, M.SERIAL));
  const irqOn = Atomics.load(i32, L.cpu(target, C.IRQ_ENABLED)) !== 0;
  const op = Atomics.load(i32, L.cpu(target, C.CUR_OP));
  const since = f64[L.counter(target, K.irqOffSince)];
  return new IpiTimeoutError(sender, target, serial, waitedMs, irqOn ? null : since, CPU_OP_NAMES[op] ?? `op ${op}`, L.cfg.ipiTimeoutMs);
}
