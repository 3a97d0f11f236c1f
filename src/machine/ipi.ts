import { CPU_OP_NAMES } from './constants.js';
import { IpiTimeoutError } from './errors.js';
import { C, H, K, M, type Layout } from './layout.js';
import { MachineAborted } from './sync.js';
import type { FlushRequest } from './tlb.js';

/**
 * IPI mailboxes. Each target has one slot per sender; a slot holds at most one
 * request, because a sender waits for every acknowledgement before it posts
 * again (smp_call_function_many with wait=1).
 *
 * Post (sender):  fill slot fields → REQ = seq → PENDING |= sender bit →
 *                 bump target DOORBELL (notify if it sleeps).
 * Handle (target, at an instruction boundary with interrupts enabled):
 *                 take PENDING → for each slot with REQ != ACK: read fields,
 *                 apply → ACK = REQ → bump sender DOORBELL (notify if it sleeps).
 * Every store and load of these words is sequentially consistent (Atomics),
 * which is what makes the PENDING/DOORBELL/SLEEPING handshakes free of lost
 * wake-ups: a waiter announces SLEEPING before it re-reads its condition.
 */

/** Make `cpu` notice a change it may be sleeping on. */
export function ring(i32: Int32Array, L: Layout, cpu: number): void {
  Atomics.add(i32, L.cpu(cpu, C.DOORBELL), 1);
  if (Atomics.load(i32, L.cpu(cpu, C.SLEEPING)) !== 0) Atomics.notify(i32, L.cpu(cpu, C.DOORBELL));
}

/** Post `r` from `sender` to `target`; returns the sequence number to wait for. */
export function post(i32: Int32Array, L: Layout, sender: number, target: number, r: FlushRequest): number {
  const s = (f: number): number => L.slot(target, sender, f);
  const seq = (Atomics.load(i32, s(M.REQ)) + 1) | 0;
  Atomics.store(i32, s(M.KIND), r.kind);
  Atomics.store(i32, s(M.ASID), r.asid);
  Atomics.store(i32, s(M.START), r.start);
  Atomics.store(i32, s(M.END), r.end);
  Atomics.store(i32, s(M.WHICH), r.which);
  Atomics.store(i32, s(M.SERIAL), Atomics.add(i32, H.IPI_SERIAL, 1) + 1);
  Atomics.store(i32, s(M.REQ), seq);
  Atomics.or(i32, L.cpu(target, C.PENDING), 1 << sender);
  ring(i32, L, target);
  return seq;
}

/**
 * Handle every pending request of `target`, calling `apply` for each. Returns
 * the number handled.
 */
export function handlePending(i32: Int32Array, L: Layout, target: number, apply: (r: FlushRequest) => void): number {
  let bits = Atomics.exchange(i32, L.cpu(target, C.PENDING), 0);
  let handled = 0;
  while (bits !== 0) {
    const sender = 31 - Math.clz32(bits & -bits);
    bits &= bits - 1;
    const s = (f: number): number => L.slot(target, sender, f);
    const req = Atomics.load(i32, s(M.REQ));
    if (req === Atomics.load(i32, s(M.ACK))) continue;
    apply({
      kind: Atomics.load(i32, s(M.KIND)),
      asid: Atomics.load(i32, s(M.ASID)),
      start: Atomics.load(i32, s(M.START)),
      end: Atomics.load(i32, s(M.END)),
      which: Atomics.load(i32, s(M.WHICH)),
    });
    Atomics.store(i32, s(M.ACK), req);
    ring(i32, L, sender);
    handled++;
  }
  return handled;
}

export function acked(i32: Int32Array, L: Layout, sender: number, target: number, seq: number): boolean {
  return Atomics.load(i32, L.slot(target, sender, M.ACK)) === seq;
}

/**
 * Block `self` until `done()` holds: spin up to spinLimit, then sleep on the
 * own doorbell (whoever makes `done` true rings it). `poll` runs on every
 * round (the waiter handles its own IPIs there when its interrupts are on).
 * Throws MachineAborted if another thread failed, and `onTimeout()`'s error
 * past `timeoutMs`.
 */
export function waitUntil(
  i32: Int32Array,
  L: Layout,
  self: number,
  done: () => boolean,
  poll: () => void,
  timeoutMs: number,
  onTimeout: (waitedMs: number) => Error,
): void {
  for (let i = 0; i < L.cfg.spinLimit; i++) {
    poll();
    if (done()) return;
  }
  const t0 = performance.now();
  const bell = L.cpu(self, C.DOORBELL);
  const sleeping = L.cpu(self, C.SLEEPING);
  for (;;) {
    poll();
    if (done()) return;
    if (Atomics.load(i32, H.ABORT) !== 0) throw new MachineAborted();
    const waited = performance.now() - t0;
    if (waited > timeoutMs) throw onTimeout(waited);
    Atomics.store(i32, sleeping, 1);
    const seen = Atomics.load(i32, bell);
    poll();
    if (!done()) Atomics.wait(i32, bell, seen, Math.min(50, timeoutMs - waited + 1));
    Atomics.store(i32, sleeping, 0);
  }
}

/** The stuck-CPU error for an unacknowledged IPI from sender to target. */
export function ipiTimeout(i32: Int32Array, f64: Float64Array, L: Layout, sender: number, target: number, waitedMs: number): IpiTimeoutError {
  const serial = Atomics.load(i32, L.slot(target, sender, M.SERIAL));
  const irqOn = Atomics.load(i32, L.cpu(target, C.IRQ_ENABLED)) !== 0;
  const op = Atomics.load(i32, L.cpu(target, C.CUR_OP));
  const since = f64[L.counter(target, K.irqOffSince)];
  return new IpiTimeoutError(sender, target, serial, waitedMs, irqOn ? null : since, CPU_OP_NAMES[op] ?? `op ${op}`);
}
