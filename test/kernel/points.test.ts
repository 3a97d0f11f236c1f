import { describe, expect, it } from 'vitest';
import { KERNEL_POINTS, SYSCALL_NAMES, STEP_NAMES, Step, pointStep } from '../../src/kernel/ops.js';
import { Kernel } from '../../src/kernel/syscalls.js';
import { type KernelCommand, runKernelScript } from '../../src/kernel/script.js';
import { Cpu } from '../../src/machine/cpu.js';
import { Machine } from '../../src/machine/machine.js';

describe('kernel points', () => {
  it('KERNEL_POINTS names exactly the non-empty STEP_NAMES: each step a point, each point a step', () => {
    const points = KERNEL_POINTS.map((p) => p.name);
    const steps = STEP_NAMES.filter((n) => n !== '');
    expect(new Set(points).size).toBe(points.length);
    expect(new Set(steps).size).toBe(steps.length);
    expect([...points].sort()).toEqual([...steps].sort());
    // A point's step code is its step's; the empty step (NONE) is no point.
    for (const p of points) expect(STEP_NAMES[pointStep(p)]).toBe(p);
    expect(pointStep('')).toBe(-1);
    expect(pointStep('tlb_end_vmaX')).toBe(-1);
    for (const p of KERNEL_POINTS) expect(p.where.length).toBeGreaterThan(0);
  });

  it('every kernel point is reached by some call (linux-6), and each call reaches its return', () => {
    const machine = Machine.create({ cpus: 1, frames: 512, wordsPerPage: 16 });
    const cpu = new Cpu(machine.views, 0);
    // A small batch, so that a gather fills it and flushes mid-way (tlb_flush_mmu).
    const kernel = new Kernel(cpu, { policy: 'linux-6', batchCapacity: 4 });
    const script: KernelCommand[] = [
      { op: 'createMm', asid: 0 },
      { op: 'switchMm', asid: 0 },
      { op: 'mmap', asid: 0, start: 0, pages: 20, write: true },
      { op: 'fault', asid: 0, start: 0, end: 20 },
      { op: 'madvise', asid: 0, start: 0, end: 8 },
      // khugepaged on a whole PTE table's span (16 pages with 16-entry tables).
      { op: 'mmap', asid: 0, start: 32, pages: 16, write: true },
      { op: 'collapse', asid: 0, vpn: 32 },
      { op: 'munmap', asid: 0, start: 0, end: 20 },
      { op: 'mmap', asid: 0, start: 1024, pages: 8, write: true },
      { op: 'shiftArgPages', asid: 0, vmaStart: 1024, shift: 512 },
      // A shared file mapping moved by mremap, then truncated (a page mapped twice, the second time by the move).
      { op: 'mmap', asid: 0, start: 2048, pages: 4, file: 0, write: true },
      { op: 'mremap', asid: 0, start: 2048, pages: 4, newStart: 2560 },
      { op: 'truncate', file: 0, pages: 0 },
      { op: 'exitMmap', asid: 0 },
    ];
    runKernelScript(kernel, machine, script);
    const L = machine.layout;
    const missed = KERNEL_POINTS.filter((p) => Atomics.load(machine.i32, L.point(0, pointStep(p.name))) === 0).map((p) => p.name);
    expect(missed).toEqual([]);
    const returned = Atomics.load(machine.i32, L.point(0, Step.RETURN));
    const calls = ['mmap', 'fault', 'madvise(DONTNEED)', 'munmap', 'shift_arg_pages', 'exit_mmap', 'mremap', 'truncate', 'khugepaged'];
    expect(SYSCALL_NAMES.filter((n, code) => returned & (1 << code))).toEqual(SYSCALL_NAMES.filter((n) => calls.includes(n)));
    // Back to no operation once the script is over.
    expect(cpu.kernelOp()).toBe(0);
  });
});
