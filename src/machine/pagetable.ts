import { FrameKind, PTE_FRAME_MASK, Pte, tableKindOfLevel } from './constants.js';
import type { FrameAllocator } from './allocator.js';
import { A, F, type Layout } from './layout.js';

/**
 * Three-level page tables (pgd → pmd → pte) per address space, in frames.
 *
 * Every table entry has a shadow word beside it: the generation of the frame
 * the entry points at, taken when the entry was written. Hardware has no such
 * thing; the checker uses it as the "generation at fill" of a table pointer or
 * of a leaf translation, so a walker that reads a pointer to a frame which has
 * since been freed and reallocated is caught even if the reallocation came
 * between reading the pointer and reading the frame.
 *
 * Writers store the shadow before the entry and clear an entry before its
 * shadow can be rewritten; readers use readConsistent (entry, shadow, entry
 * again), so an (entry, shadow) pair read is one that existed.
 *
 * These helpers are what the kernel's page-table code (pte_alloc, set_pte,
 * ptep_get_and_clear, pmd_clear) does; the kernel model calls them with its
 * mmap lock held, the simulated hardware only reads.
 */
/** Where a table page comes from: (frame kind, owner) → frame, -1 when out of frames. */
export type TableAlloc = (kind: number, owner: number) => number;

export class PageTables {
  /** Called after every page-table write (a yield point of controlled runs). */
  onWrite: (() => void) | null = null;

  constructor(
    private readonly i32: Int32Array,
    private readonly L: Layout,
    private readonly alloc: FrameAllocator,
  ) {}

  /** Create address space `asid` with an empty pgd. Returns false when out of frames. */
  createSpace(asid: number): boolean {
    const { i32, L } = this;
    if (Atomics.load(i32, L.space(asid, A.LIVE))) throw new Error(`address space ${asid} already exists`);
    const pgd = this.alloc.alloc(FrameKind.TABLE_PGD, asid);
    if (pgd < 0) return false;
    Atomics.store(i32, L.space(asid, A.PGD_FRAME), pgd);
    Atomics.store(i32, L.space(asid, A.PGD_GEN), Atomics.load(i32, L.frame(pgd, F.GEN)));
    Atomics.store(i32, L.space(asid, A.CPUMASK), 0);
    Atomics.store(i32, L.space(asid, A.LIVE), 1);
    return true;
  }

  /** Free the pgd of a space whose lower tables are already gone. */
  destroySpace(asid: number, cpu: number, op: number): void {
    const { i32, L } = this;
    const pgd = Atomics.load(i32, L.space(asid, A.PGD_FRAME));
    Atomics.store(i32, L.space(asid, A.LIVE), 0);
    this.alloc.put(pgd, cpu, op, 0);
  }

  isLive(asid: number): boolean {
    return Atomics.load(this.i32, this.L.space(asid, A.LIVE)) !== 0;
  }
  pgd(asid: number): number {
    return Atomics.load(this.i32, this.L.space(asid, A.PGD_FRAME));
  }
  cpumask(asid: number): number {
    return Atomics.load(this.i32, this.L.space(asid, A.CPUMASK));
  }

  entry(table: number, idx: number): number {
    return Atomics.load(this.i32, this.L.word(table, idx));
  }

  /** Write an entry pointing at `value & frame mask` (shadow first: see above). */
  setEntry(table: number, idx: number, value: number): void {
    const { i32, L } = this;
    const target = value & PTE_FRAME_MASK;
    const gen = value & Pte.PRESENT ? Atomics.load(i32, L.frame(target, F.GEN)) : 0;
    Atomics.store(i32, L.shadowWord(table, idx), gen);
    Atomics.store(i32, L.word(table, idx), value);
    this.onWrite?.();
  }

  /** Clear an entry, returning what it held (ptep_get_and_clear / pmd_clear). */
  clearEntry(table: number, idx: number): number {
    const old = Atomics.exchange(this.i32, this.L.word(table, idx), 0);
    this.onWrite?.();
    return old;
  }

  /**
   * The table at `level` (1 = PTE table, 2 = PMD table, 3 = pgd) on the way to
   * vpn, or -1 if an upper entry is none.
   */
  table(asid: number, vpn: number, level: number): number {
    const ix = this.L.indexes(vpn);
    let t = this.pgd(asid);
    for (let l = 3; l > level; l--) {
      const e = this.entry(t, ix[3 - l]);
      if (!(e & Pte.PRESENT)) return -1;
      t = e & PTE_FRAME_MASK;
    }
    return t;
  }

  /**
   * The PTE table for vpn, allocating missing tables (pmd_alloc, pte_alloc)
   * from `allocTable` (default: the frame allocator; a kernel with a
   * page-table cache passes its own). -1: out of frames.
   */
  ensurePteTable(asid: number, vpn: number, allocTable?: TableAlloc): number {
    const ix = this.L.indexes(vpn);
    let t = this.pgd(asid);
    for (let l = 3; l > 1; l--) {
      const i = ix[3 - l];
      let e = this.entry(t, i);
      if (!(e & Pte.PRESENT)) {
        const kind = tableKindOfLevel(l - 1);
        const nt = allocTable ? allocTable(kind, asid) : this.alloc.alloc(kind, asid);
        if (nt < 0) return -1;
        e = nt | Pte.PRESENT;
        this.setEntry(t, i, e);
      }
      t = e & PTE_FRAME_MASK;
    }
    return t;
  }

  /** Map vpn to `frame` with `flags` (Pte.WRITE, Pte.EXEC). Returns false when out of frames. */
  map(asid: number, vpn: number, frame: number, flags: number, allocTable?: TableAlloc): boolean {
    const t = this.ensurePteTable(asid, vpn, allocTable);
    if (t < 0) return false;
    const i = vpn & (this.L.W - 1);
    if (this.entry(t, i) & Pte.PRESENT) throw new Error(`vpn ${vpn} of address space ${asid} is already mapped`);
    this.setEntry(t, i, frame | flags | Pte.PRESENT);
    return true;
  }

  /** Clear the PTE of vpn; returns the old entry (0 if none or no table). */
  unmap(asid: number, vpn: number): number {
    const t = this.table(asid, vpn, 1);
    if (t < 0) return 0;
    return this.clearEntry(t, vpn & (this.L.W - 1));
  }

  /** The PTE of vpn, 0 if none. */
  pte(asid: number, vpn: number): number {
    const t = this.table(asid, vpn, 1);
    return t < 0 ? 0 : this.entry(t, vpn & (this.L.W - 1));
  }
}
