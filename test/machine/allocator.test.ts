import { describe, expect, it } from 'vitest';
import { ConfigError, DoubleFreeError, FrameKind, Machine, resolveConfig } from '../../src/machine/index.js';
import { F } from '../../src/machine/layout.js';

describe('frame allocator orders', () => {
  it('LIFO hands back the most recently freed frame first', () => {
    const m = Machine.create({ cpus: 1, frames: 16 });
    const a = m.alloc.alloc(FrameKind.DATA, 0);
    const b = m.alloc.alloc(FrameKind.DATA, 0);
    m.alloc.put(a, 0, 0, 0);
    m.alloc.put(b, 0, 0, 0);
    expect(m.alloc.alloc(FrameKind.DATA, 0)).toBe(b);
    expect(m.alloc.alloc(FrameKind.DATA, 0)).toBe(a);
  });

  it('FIFO hands back the least recently freed frame last', () => {
    const m = Machine.create({ cpus: 1, frames: 8, allocOrder: 'fifo' });
    const got = Array.from({ length: 8 }, () => m.alloc.alloc(FrameKind.DATA, 0));
    expect(m.alloc.alloc(FrameKind.DATA, 0)).toBe(-1);
    m.alloc.put(got[3], 0, 0, 0);
    m.alloc.put(got[1], 0, 0, 0);
    expect(m.alloc.alloc(FrameKind.DATA, 0)).toBe(got[3]);
    expect(m.alloc.alloc(FrameKind.DATA, 0)).toBe(got[1]);
  });

  it('random order is a permutation fixed by the seed', () => {
    const draw = (allocSeed: number) => {
      const m = Machine.create({ cpus: 1, frames: 32, allocOrder: 'random', allocSeed });
      return Array.from({ length: 32 }, () => m.alloc.alloc(FrameKind.DATA, 0));
    };
    const a = draw(7);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 32 }, (_, i) => i));
    expect(draw(7)).toEqual(a);
    expect(draw(8)).not.toEqual(a);
  });

  it('bumps the generation at every allocation and zeroes the frame', () => {
    const m = Machine.create({ cpus: 1, frames: 8 });
    const f = m.alloc.alloc(FrameKind.DATA, 3);
    m.i32[m.layout.word(f, 0)] = 99;
    m.alloc.put(f, 0, 0, 0);
    expect(m.alloc.alloc(FrameKind.TABLE_PTE, 4)).toBe(f);
    expect(m.i32[m.layout.word(f, 0)]).toBe(0);
    expect(m.alloc.freeFrames()).toBe(7);
  });

  it('refuses a double free', () => {
    const m = Machine.create({ cpus: 1, frames: 8 });
    const f = m.alloc.alloc(FrameKind.DATA, 0);
    m.alloc.put(f, 0, 0, 0);
    expect(() => m.alloc.put(f, 0, 0, 0)).toThrow(DoubleFreeError);
  });
});

describe('frame reference counts', () => {
  it('a pinned frame outlives the kernel put_page and is freed by the last reference', () => {
    const m = Machine.create({ cpus: 1, frames: 8 });
    const f = m.alloc.alloc(FrameKind.DATA, 0);
    expect(m.alloc.tryGet(f)).toBe(true);
    expect(m.alloc.put(f, 0, 0, 0)).toBe(false);
    expect(m.i32[m.layout.frame(f, F.KIND)]).toBe(FrameKind.DATA);
    expect(m.alloc.freeFrames()).toBe(7);
    expect(m.alloc.put(f, 1, 0, 0)).toBe(true);
    expect(m.i32[m.layout.frame(f, F.KIND)]).toBe(FrameKind.FREE);
    expect(m.i32[m.layout.frame(f, F.FREE_CPU)]).toBe(1);
    expect(m.alloc.freeFrames()).toBe(8);
  });

  it('a speculative reference on a freed frame fails and leaves the count alone', () => {
    const m = Machine.create({ cpus: 1, frames: 8 });
    const f = m.alloc.alloc(FrameKind.DATA, 0);
    m.alloc.put(f, 0, 0, 0);
    expect(m.alloc.tryGet(f)).toBe(false);
    expect(m.alloc.get(f)).toBe(0);
    expect(m.i32[m.layout.frame(f, F.REFS)]).toBe(0);
    // Reallocated: the reference succeeds, on the new allocation.
    expect(m.alloc.alloc(FrameKind.DATA, 1)).toBe(f);
    expect(m.alloc.get(f)).toBe(1);
    expect(m.i32[m.layout.frame(f, F.REFS)]).toBe(2);
  });
});

describe('machine configuration', () => {
  it('names the offending field', () => {
    expect(() => resolveConfig({ cpus: 0 })).toThrow(/cpus must be an integer from 1 to 32/);
    expect(() => resolveConfig({ cpus: 2.5 })).toThrow(ConfigError);
    expect(() => resolveConfig({ wordsPerPage: 48 })).toThrow(/wordsPerPage/);
    expect(() => resolveConfig({ dtlb: { sets: 3, ways: 2 } })).toThrow(/dtlb.sets/);
    expect(() => resolveConfig({ speculation: 2 })).toThrow(/speculation/);
    expect(resolveConfig({ cpus: 8 }).cpus).toBe(8);
  });
});
