/**
 * Waiting primitives over the shared buffer that are not wait.ts's timed wait:
 * MachineAborted, which every waiter throws when another thread aborted the
 * machine, and the allocator's futex mutex. The host has 2 cores and runs 4+
 * simulated CPUs plus the coordinator, so no wait may spin for long: the mutex
 * too spins briefly, then sleeps in Atomics.wait with a timeout, and gives up
 * with MachineAborted if the machine was aborted by another thread's failure.
 * (It keeps its own loop: Drepper's protocol exchanges the lock word itself
 * every round, and a critical section is short, so it needs neither a poll
 * nor a watchdog; see wait.ts.)
 */

/** Thrown in a waiter when another thread aborted the machine. */
export class MachineAborted extends Error {
  constructor() {
    super('machine aborted by another thread');
    this.name = 'MachineAborted';
  }
}

/**
 * Futex-style mutex (0 free, 1 held, 2 held and contended), after Drepper's
 * "Futexes are tricky". Unlock notifies only when someone may sleep.
 */
export function mutexLock(i32: Int32Array, at: number, spinLimit: number, abortAt: number): void {
  if (Atomics.compareExchange(i32, at, 0, 1) === 0) return;
  for (let i = 0; i < spinLimit; i++) {
    if (Atomics.load(i32, at) === 0 && Atomics.compareExchange(i32, at, 0, 1) === 0) return;
  }
  while (Atomics.exchange(i32, at, 2) !== 0) {
    Atomics.wait(i32, at, 2, 50);
    if (Atomics.load(i32, abortAt) !== 0) throw new MachineAborted();
  }
}

export function mutexUnlock(i32: Int32Array, at: number): void {
  if (Atomics.exchange(i32, at, 0) === 2) Atomics.notify(i32, at, 1);
}

/** xorshift32 step; never returns 0 for a non-zero state. */
export function xorshift32(x: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
}
