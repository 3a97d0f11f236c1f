import { describe, expect, it } from 'vitest';
import { FrameKind, PTE_FRAME_MASK, Pte } from '../../src/machine/constants.js';
import { F } from '../../src/machine/layout.js';
import { KernelError } from '../../src/kernel/syscalls.js';
import { runKernelScript } from '../../src/kernel/script.js';
import { policyNames } from '../../src/kernel/policies/index.js';
import { type Fixture, setup } from './helpers.js';

/**
 * Shared file mappings: the page cache holds a reference to each page, each
 * PTE mapping it another, and a frame is freed only when the last goes
 * (kernel/file-cache.ts). Tables of 16 pages (helpers.ts), files of 64 pages.
 */

const frameOf = (f: Fixture, asid: number, vpn: number): number => f.cpu0.pt.pte(asid, vpn) & PTE_FRAME_MASK;
const refs = (f: Fixture, frame: number): number => Atomics.load(f.machine.i32, f.machine.layout.frame(frame, F.REFS));
const mapcount = (f: Fixture, frame: number): number => Atomics.load(f.machine.i32, f.machine.layout.frame(frame, F.MAPCOUNT));
const kind = (f: Fixture, frame: number): number => Atomics.load(f.machine.i32, f.machine.layout.frame(frame, F.KIND));

describe('the page cache and its references', () => {
  it('a fault maps the page-cache page: one reference for the cache, one for the mapping', () => {
    const f = setup('linux-6');
    f.kernel.mmap(f.mm, 0, 4, { file: 0, pgoff: 8, write: true });
    expect(f.kernel.faultIn(f.mm, 0, 4)).toBe(4);
    const fc = f.kernel.fileCache(0);
    for (let i = 0; i < 4; i++) {
      const fr = frameOf(f, 0, i);
      expect(fc.peek(8 + i)).toBe(fr);
      expect(refs(f, fr)).toBe(2);
      expect(mapcount(f, fr)).toBe(1);
    }
    expect(fc.nrPages).toBe(4);
    // A read fault: the PTE is clean.
    expect(f.cpu0.pt.pte(0, 0) & Pte.DIRTY).toBe(0);
  });

  it('a page zapped but not truncated stays allocated, in the page cache; truncate frees it; nothing leaks', () => {
    const f = setup('linux-6');
    const free0 = f.machine.alloc.freeFrames();
    f.kernel.mmap(f.mm, 0, 4, { file: 0, write: true });
    f.kernel.faultIn(f.mm, 0, 4);
    const frames = [0, 1, 2, 3].map((v) => frameOf(f, 0, v));
    f.kernel.munmap(f.mm, 0, 4);
    for (const fr of frames) {
      expect(kind(f, fr)).toBe(FrameKind.DATA);
      expect(refs(f, fr)).toBe(1);
      expect(mapcount(f, fr)).toBe(0);
    }
    expect(f.kernel.fileCache(0).mappingMapped).toBe(false);
    const r = f.kernel.truncate(0, 0);
    expect(r.ptes).toBe(0);
    for (const fr of frames) expect(kind(f, fr)).toBe(FrameKind.FREE);
    expect(f.kernel.fileCache(0).nrPages).toBe(0);
    // Every frame back but the mm's pgd (never freed here).
    expect(f.machine.alloc.freeFrames()).toBe(free0);
  });

  it('a page mapped in two mms is one frame; truncate finds both mappings through i_mmap, flushes each mm and frees it', () => {
    const f = setup('linux-6');
    f.kernel.createMm(1);
    const mm1 = f.kernel.mm(1);
    f.kernel.mmap(f.mm, 0, 4, { file: 2, write: true });
    f.kernel.mmap(mm1, 32, 2, { file: 2, pgoff: 2, write: true });
    f.kernel.faultIn(f.mm, 0, 4);
    f.kernel.faultIn(mm1, 32, 34);
    const shared = frameOf(f, 0, 2);
    expect(frameOf(f, 1, 32)).toBe(shared);
    expect(refs(f, shared)).toBe(3);
    expect(mapcount(f, shared)).toBe(2);
    // The i_mmap: both vmas, in pgoff order.
    const fc = f.kernel.fileCache(2);
    expect(fc.maps().map((m) => [m.asid, m.start, m.end, m.pgoff])).toEqual([
      [0, 0, 4, 0],
      [1, 32, 34, 2],
    ]);
    const r = f.kernel.truncate(2, 1);
    // Pages 1..3 of mm 0 and both pages of mm 1 unmapped; page 0 stays.
    expect(r.ptes).toBe(5);
    expect(r.removed).toEqual([
      { asid: 0, start: 1, end: 4 },
      { asid: 1, start: 32, end: 34 },
    ]);
    expect(r.trace.filter((e) => e.t === 'flush').map((e) => (e.t === 'flush' ? [e.asid, e.start, e.end] : []))).toEqual([
      [0, 1, 4],
      [1, 32, 34],
    ]);
    expect(frameOf(f, 0, 0)).not.toBe(0);
    expect(f.cpu0.pt.pte(0, 1) & Pte.PRESENT).toBe(0);
    expect(f.cpu0.pt.pte(1, 32) & Pte.PRESENT).toBe(0);
    expect(kind(f, shared)).toBe(FrameKind.FREE);
    expect(fc.size).toBe(1);
    expect(fc.nrPages).toBe(1);
  });

  it('a fault past i_size is SIGBUS: nothing mapped; a truncate that grows the file makes it mappable', () => {
    const f = setup('linux-6');
    f.kernel.truncate(0, 2);
    f.kernel.mmap(f.mm, 0, 4, { file: 0, write: true });
    expect(f.kernel.faultIn(f.mm, 0, 4)).toBe(2);
    expect(f.cpu0.pt.pte(0, 2) & Pte.PRESENT).toBe(0);
    f.kernel.truncate(0, 64);
    expect(f.kernel.faultIn(f.mm, 0, 4)).toBe(2);
  });

  it('munmap of the middle of a file vma splits its i_mmap record, each piece with its file page', () => {
    const f = setup('linux-6');
    f.kernel.mmap(f.mm, 16, 8, { file: 1, pgoff: 4 });
    f.kernel.faultIn(f.mm, 16, 24);
    f.kernel.munmap(f.mm, 18, 20);
    expect(f.mm.vmas.map((v) => [v.start, v.end, v.file, v.pgoff])).toEqual([
      [16, 18, 1, 4],
      [20, 24, 1, 8],
    ]);
    expect(f.kernel.fileCache(1).maps().map((m) => [m.start, m.end, m.pgoff])).toEqual([
      [16, 18, 4],
      [20, 24, 8],
    ]);
  });

  it('exit_mmap unlinks every file vma and drops every mapping reference; the page cache keeps its pages', () => {
    for (const policy of policyNames()) {
      const f = setup(policy);
      f.kernel.mmap(f.mm, 0, 20, { file: 0, write: true });
      f.kernel.faultIn(f.mm, 0, 20);
      const fr = frameOf(f, 0, 3);
      f.kernel.exitMmap(f.mm);
      expect(f.kernel.fileCache(0).mappingMapped, policy).toBe(false);
      expect(refs(f, fr), policy).toBe(1);
      expect(f.kernel.fileCache(0).nrPages, policy).toBe(20);
    }
  });

  it('refuses a mapping past the file, a private file mapping, and a file the machine has not', () => {
    const f = setup('linux-6');
    expect(() => f.kernel.mmap(f.mm, 0, 8, { file: 0, pgoff: 60 })).toThrow(KernelError);
    expect(() => f.kernel.truncate(0, 65)).toThrow(KernelError);
    expect(() => f.kernel.mmap(f.mm, 0, 1, { file: 99 })).toThrow(/no file 99/);
    expect(() => runKernelScript(f.kernel, f.machine, [{ op: 'mmap', asid: 0, start: 0, pages: 1, pgoff: 3 }])).toThrow(/need a file/);
  });
});

describe('mremap', () => {
  it('moves the PTEs to the new address (same frames), unmaps the old range, and moves the vma in i_mmap', () => {
    const f = setup('linux-6');
    f.kernel.mmap(f.mm, 8, 16, { file: 0, pgoff: 4, write: true });
    f.kernel.faultIn(f.mm, 8, 24);
    const frames = Array.from({ length: 8 }, (_, i) => frameOf(f, 0, 12 + i));
    // Move [12, 20), the middle of the vma, to [100, 108).
    const r = f.kernel.mremap(f.mm, { start: 12, pages: 8, newStart: 100 });
    expect(r.ptes).toBe(8);
    expect(Array.from({ length: 8 }, (_, i) => frameOf(f, 0, 100 + i))).toEqual(frames);
    for (let v = 12; v < 20; v++) expect(f.cpu0.pt.pte(0, v) & Pte.PRESENT).toBe(0);
    for (const fr of frames) {
      expect(refs(f, fr)).toBe(2);
      expect(mapcount(f, fr)).toBe(1);
    }
    expect(f.mm.vmas.map((v) => [v.start, v.end, v.pgoff])).toEqual([
      [8, 12, 4],
      [20, 24, 16],
      [100, 108, 8],
    ]);
    expect(f.kernel.fileCache(0).maps().map((m) => [m.start, m.end, m.pgoff])).toEqual([
      [8, 12, 4],
      [100, 108, 8],
      [20, 24, 16],
    ]);
    expect(r.removed).toEqual([{ start: 12, end: 20 }]);
  });

  it('moves anonymous memory too, and refuses a range across vmas or onto itself', () => {
    const f = setup('arm-2.6.38');
    f.kernel.mmap(f.mm, 0, 4, { write: true });
    f.kernel.faultIn(f.mm, 0, 4);
    const fr = frameOf(f, 0, 1);
    f.kernel.mremap(f.mm, { start: 0, pages: 4, newStart: 40 });
    expect(frameOf(f, 0, 41)).toBe(fr);
    expect(f.mm.vmas.map((v) => [v.start, v.end])).toEqual([[40, 44]]);
    expect(() => f.kernel.mremap(f.mm, { start: 40, pages: 8, newStart: 80 })).toThrow(/EFAULT/);
    expect(() => f.kernel.mremap(f.mm, { start: 40, pages: 4, newStart: 42 })).toThrow(/EINVAL/);
  });

  it('unmaps whatever the destination held first (MREMAP_FIXED)', () => {
    const f = setup('linux-6');
    f.kernel.mmap(f.mm, 0, 2, { write: true });
    f.kernel.mmap(f.mm, 32, 2, { write: true });
    f.kernel.faultIn(f.mm, 0, 34);
    const moved = frameOf(f, 0, 0);
    const gone = frameOf(f, 0, 32);
    f.kernel.mremap(f.mm, { start: 0, pages: 2, newStart: 32 });
    expect(frameOf(f, 0, 32)).toBe(moved);
    expect(kind(f, gone)).toBe(FrameKind.FREE);
  });
});
