import { describe, expect, it } from 'vitest';
import type { ScriptCommand } from '../../src/harness/thread/script.js';
import { armCores } from '../../src/machine/cores.js';
import { H } from '../../src/machine/layout.js';
import { Machine } from '../../src/machine/machine.js';
import { usePool } from '../helpers.js';

const pool = usePool();

/** Ten minutes: far past the 20 s test timeout, so only the posted IPI can end the stall in time. */
const FOREVER_US = 600e6;

function script(commands: ScriptCommand[]) {
  return { role: 'script', args: commands };
}

/**
 * A race window's stall (Cpu.stall, what a gup_fast walker takes between
 * two levels of its walk) ends when an IPI is posted to the stalled CPU:
 * the sender waits for it anyway, since it has interrupts off, and a stall
 * on would only make the sender wait. Both ways it stalls: spinning on a
 * core of its own, and parked off every core under the host-core gate.
 */
describe('a window stall and a posted IPI', () => {
  for (const gated of [false, true]) {
    const how = gated ? 'parked off its core (2 CPUs on 1 gated core)' : 'spinning on its own core';
    it(`${how}: the stall ends when the IPI is posted; the IPI is taken after it, interrupts on`, async () => {
      const m = Machine.create({ cpus: 2, frames: 64 });
      await pool().bind(m);
      m.reset();
      if (gated) armCores(m.i32, 1);
      const [sender, walker] = await pool().run([
        script([{ op: 'waitFlag', flag: 1, value: 1 }, { op: 'flush', kind: 'range', asid: 0, start: 0, end: 1, mask: 0b10 }, { op: 'readFlag', flag: 2 }]),
        script([
          { op: 'irq', on: false },
          { op: 'setFlag', flag: 1, value: 1 },
          { op: 'stall', us: FOREVER_US },
          { op: 'setFlag', flag: 2, value: 1 },
          { op: 'irq', on: true },
          { op: 'spin', steps: 100 },
        ]),
      ]);
      // The sender's flush returned after the stall had ended: the walker set flag 2 before it took the IPI.
      expect((sender.result as number[])[2]).toBe(1);
      expect((walker.result as number[])[2]).toBeLessThan(FOREVER_US / 1000);
      expect(m.counters(1).ipisReceived).toBe(1);
      if (gated) expect([Atomics.load(m.i32, H.CORE_FREE), Atomics.load(m.i32, H.CORE_QUEUED)]).toEqual([1, 0]);
    }, 20_000);

    it(`${how}: with nothing posted the stall lasts its length`, async () => {
      const m = Machine.create({ cpus: 2, frames: 64 });
      await pool().bind(m);
      m.reset();
      if (gated) armCores(m.i32, 1);
      const [, staller] = await pool().run([script([{ op: 'spin', steps: 10 }]), script([{ op: 'irq', on: false }, { op: 'stall', us: 20_000 }, { op: 'irq', on: true }])]);
      expect((staller.result as number[])[1]).toBeGreaterThanOrEqual(20);
    }, 20_000);
  }
});
