import { describe, expect, it } from 'vitest';
import { Access, FrameKind, ViolationKind } from '../../src/machine/constants.js';
import { AccessResult } from '../../src/machine/cpu.js';
import { Step, syscallCode, kernelOp } from '../../src/kernel/ops.js';
import { staleAfterReturn } from '../../src/kernel/stale.js';
import { frameAt, setup } from './helpers.js';

/**
 * The seed's race (docs/domain.md 5.1), single-threaded: CPU 0 runs munmap,
 * CPU 1 runs the same mm and holds a TLB entry for the page. The machine uses
 * hardware-broadcast invalidation, so CPU 0's flushes reach CPU 1's TLB
 * without CPU 1 running; CPU 1 is quiescent except where the test makes it
 * execute one access. At the moment the page's frame is freed, the test
 * hands the frame to another owner and lets CPU 1 access the page.
 */
function demo(policy: string) {
  let atFree: { entryPresent: boolean; realloc: number; access: number } | null = null;
  let frame = -1;
  const f = setup(
    policy,
    {
      onTrace: (ev) => {
        if (ev.t !== 'free' || ev.frame !== frame || atFree) return;
        const entryPresent = f.machine.caches(1).some((e) => e.cache === 'dtlb' && e.asid === 0 && e.vpn === 17);
        const realloc = f.cpu0.alloc.alloc(FrameKind.DATA, 5); // someone else's page now (LIFO: this frame)
        const access = f.cpu1!.access(Access.LOAD, 17, 0);
        atFree = { entryPresent, realloc, access };
      },
    },
    { cpus: 2 },
  );
  f.kernel.mmap(f.mm, 16, 4, { write: true });
  f.kernel.faultIn(f.mm, 16, 20);
  frame = frameAt(f, 17);
  f.cpu1!.switchMm(0);
  expect(f.cpu1!.access(Access.STORE, 17, 0, 42)).toBe(AccessResult.OK);
  expect(f.machine.caches(1).some((e) => e.cache === 'dtlb' && e.vpn === 17)).toBe(true);
  const r = f.kernel.munmap(f.mm, 16, 20);
  return { f, r, frame, atFree: atFree! };
}

describe('munmap on SMP: arm-2.6.37 frees before invalidating, arm-2.6.38 does not', () => {
  it('arm-2.6.37: the frame is reallocated while CPU 1 still translates to it; its access is a violation', () => {
    const { f, frame, atFree } = demo('arm-2.6.37');
    expect(atFree.entryPresent).toBe(true);
    expect(atFree.realloc).toBe(frame);
    expect(atFree.access).toBe(AccessResult.VIOLATION);
    const v = f.machine.violations();
    expect(v.total).toBe(1);
    expect(v.records[0]).toMatchObject({
      kind: ViolationKind.STALE_DATA,
      cpu: 1,
      vpn: 17,
      frame,
      ownerBefore: 0,
      ownerNow: 5,
      freedBy: { op: kernelOp(syscallCode('munmap'), Step.TLB_REMOVE_PAGE), arg: frame, cpu: 0 },
    });
    expect(v.records[0].genNow).toBe(v.records[0].genAtFill + 1);
    // The end_vma flush still came, so nothing is stale once munmap has returned:
    // the race is only visible while munmap runs.
    expect(staleAfterReturn(f.machine, 0, 16, 20)).toEqual([]);
  });

  it('arm-2.6.38: by the time the frame is freed CPU 1 has no entry; its access faults', () => {
    const { f, frame, atFree } = demo('arm-2.6.38');
    expect(atFree.entryPresent).toBe(false);
    expect(atFree.realloc).toBe(frame);
    expect(atFree.access).toBe(AccessResult.FAULT);
    expect(f.machine.violations().total).toBe(0);
    expect(staleAfterReturn(f.machine, 0, 16, 20)).toEqual([]);
  });

  it('staleAfterReturn lists a live translation of the range on any CPU', () => {
    const f = setup('linux-6', {}, { cpus: 2 });
    f.kernel.mmap(f.mm, 16, 4);
    f.kernel.faultIn(f.mm, 16, 20);
    f.cpu1!.switchMm(0);
    f.cpu1!.access(Access.LOAD, 18, 0);
    const stale = staleAfterReturn(f.machine, 0, 16, 20);
    expect(stale).toEqual([expect.objectContaining({ cpu: 1, cache: 'dtlb', asid: 0, vpn: 18 })]);
    expect(staleAfterReturn(f.machine, 0, 0, 16)).toEqual([]);
    expect(staleAfterReturn(f.machine, 1, 16, 20)).toEqual([]);
  });
});
