import type { Cpu } from '../../machine/cpu.js';
import { H } from '../../machine/layout.js';
import type { Machine } from '../../machine/machine.js';
import { doorbellSleep, waitUntil } from '../../machine/wait.js';
import { ring } from '../../machine/ipi.js';

/** Scratch words the probe shares: threads executing now, the most seen at once, a relay baton. */
const NOW = H.SCRATCH + 8;
const MOST = H.SCRATCH + 9;
const BATON = H.SCRATCH + 10;

export interface CoreGateProbeArgs {
  /** Rounds of work per thread. */
  rounds: number;
}

export interface CoreGateProbeResult {
  /** Most threads seen executing at once (by this thread, at its own steps). */
  most: number;
  handOvers: number;
  relays: number;
}

/**
 * Self-check of the host-core gate (machine/cores.ts) in real threads: each
 * thread counts itself in while it executes, records the most threads it
 * ever saw executing at once, hands its core over when its slice is due,
 * and now and then waits (through wait.ts) for a baton passed round the
 * threads in order, so that waits give cores away and take them back while
 * others run. The baton forces every thread to need every other one: a
 * thread that slept holding a core, or a core lost on the way, deadlocks
 * the relay (the watchdog's timeout fails the test).
 */
export function coreGateProbe(cpu: Cpu, machine: Machine, a: CoreGateProbeArgs): CoreGateProbeResult {
  const i32 = machine.i32;
  const n = machine.config.cpus;
  const L = machine.layout;
  let most = 0;
  let handOvers = 0;
  let relays = 0;
  const enterCount = (): void => {
    const now = Atomics.add(i32, NOW, 1) + 1;
    if (now > most) most = now;
    for (let seen = Atomics.load(i32, MOST); now > seen && Atomics.compareExchange(i32, MOST, seen, now) !== seen; seen = Atomics.load(i32, MOST));
  };
  const leaveCount = (): void => {
    Atomics.sub(i32, NOW, 1);
  };
  enterCount();
  try {
    for (let r = 0; r < a.rounds; r++) {
      // A little work, counted in.
      for (let k = 0; k < 200; k++) cpu.sink ^= k * r;
      if (cpu.cores.sliceDue(64)) {
        leaveCount();
        cpu.cores.handOver();
        enterCount();
        handOvers++;
      }
      // Every 8th round, the relay: wait for the baton to reach this thread, pass it on.
      if (r % 8 === 0) {
        const mine = (r / 8) * n + cpu.id;
        const ready = (): boolean => Atomics.load(i32, BATON) >= mine;
        leaveCount();
        waitUntil(i32, ready, {
          spin: L.cfg.spinLimit,
          poll: () => false,
          sleep: doorbellSleep(i32, L, cpu.id, ready, () => false, 1),
          timeoutMs: 30_000,
          onTimeout: () => new Error(`CPU ${cpu.id}: the baton did not come round within 30 s`),
          gate: cpu.gate,
          awaited: () => (cpu.id + n - 1) % n,
        });
        enterCount();
        Atomics.add(i32, BATON, 1);
        ring(i32, L, (cpu.id + 1) % n);
        relays++;
      }
    }
  } finally {
    leaveCount();
  }
  return { most, handOvers, relays };
}
