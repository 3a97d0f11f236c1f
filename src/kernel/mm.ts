import type { Cpu } from '../machine/cpu.js';

/**
 * The kernel's view of one address space (mm_struct): its ASID (the machine's
 * address-space slot), its VMAs, its users count and tlb_flush_pending.
 *
 * The page tables themselves live in the machine (PageTables); the cpumask is
 * the machine's too (set by switch_mm, read with cpu.pt.cpumask(asid)), so
 * that CPUs running the mm on other threads are seen by the flush.
 *
 * Invariants: vmas are sorted by start, never overlap, and start < end. All
 * addresses are virtual page numbers; ranges are half-open [start, end).
 * Only the coordinator CPU (holding the simulated mmap lock) changes an Mm.
 */

/** A virtual memory area (vm_area_struct), in vpn. */
export interface Vma {
  start: number;
  end: number;
  /** VM_EXEC: instruction fetches allowed, I-TLBs may hold entries. */
  exec: boolean;
  /** VM_WRITE. */
  write: boolean;
  /** VM_HUGETLB: only noted by the gather (vma_huge); the machine has no huge pages. */
  huge: boolean;
  /** VM_PFNMAP: raw frames without struct page; zap clears PTEs but frees nothing. */
  pfnmap: boolean;
}

export type VmaFlags = Partial<Pick<Vma, 'exec' | 'write' | 'huge' | 'pfnmap'>>;

/**
 * mm->tlb_flush_pending: how many gathers on this mm are between
 * tlb_gather_mmu and tlb_finish_mmu. Behind an interface so it can live in
 * shared memory when gathers run on several CPU threads.
 */
export interface FlushPendingCounter {
  /** Increment; returns the new value. */
  inc(): number;
  /** Decrement; returns the new value. */
  dec(): number;
  read(): number;
}

/** A counter in this thread's memory (one coordinator). */
export class LocalCounter implements FlushPendingCounter {
  private v = 0;
  inc(): number {
    return ++this.v;
  }
  dec(): number {
    if (this.v <= 0) throw new Error('tlb_flush_pending underflow');
    return --this.v;
  }
  read(): number {
    return this.v;
  }
}

/** A counter in one word of a shared Int32Array (e.g. a machine scratch word). */
export class SharedCounter implements FlushPendingCounter {
  constructor(
    private readonly i32: Int32Array,
    private readonly at: number,
  ) {}
  inc(): number {
    return Atomics.add(this.i32, this.at, 1) + 1;
  }
  dec(): number {
    const v = Atomics.sub(this.i32, this.at, 1) - 1;
    if (v < 0) throw new Error('tlb_flush_pending underflow');
    return v;
  }
  read(): number {
    return Atomics.load(this.i32, this.at);
  }
}

export class Mm {
  readonly vmas: Vma[] = [];
  /** mm_users: threads using the address space. */
  users = 1;
  constructor(
    readonly asid: number,
    readonly tlbFlushPending: FlushPendingCounter = new LocalCounter(),
  ) {}

  /**
   * mm_alloc + pgd_alloc: create the machine address space (an empty pgd).
   * Throws when the slot exists or no frame is left for the pgd.
   */
  static create(cpu: Cpu, asid: number, pending?: FlushPendingCounter): Mm {
    if (!cpu.pt.createSpace(asid)) throw new Error(`out of frames creating the pgd of address space ${asid}`);
    return new Mm(asid, pending);
  }

  /** find_vma: the first vma with end > vpn (it may start above vpn), or undefined. */
  findVma(vpn: number): Vma | undefined {
    return this.vmas.find((v) => v.end > vpn);
  }

  /** The vma containing vpn, or undefined. */
  vmaAt(vpn: number): Vma | undefined {
    const v = this.findVma(vpn);
    return v && v.start <= vpn ? v : undefined;
  }

  /** Vmas intersecting [start, end), in order. */
  overlapping(start: number, end: number): Vma[] {
    return this.vmas.filter((v) => v.start < end && start < v.end);
  }

  /** Insert a vma; throws if it overlaps an existing one. */
  insert(vma: Vma): void {
    if (!(vma.start < vma.end)) throw new Error(`empty vma [${vma.start}, ${vma.end})`);
    if (this.overlapping(vma.start, vma.end).length) throw new Error(`vma [${vma.start}, ${vma.end}) overlaps an existing mapping`);
    this.vmas.push(vma);
    this.vmas.sort((a, b) => a.start - b.start);
  }

  /** The vma before / after `vma` in address order (vm_prev / vm_next). */
  prev(vma: Vma): Vma | undefined {
    const i = this.vmas.indexOf(vma);
    return i > 0 ? this.vmas[i - 1] : undefined;
  }
  next(vma: Vma): Vma | undefined {
    const i = this.vmas.indexOf(vma);
    return i >= 0 && i + 1 < this.vmas.length ? this.vmas[i + 1] : undefined;
  }

  /**
   * split_vma at `at` (strictly inside a vma): the vma keeps [start, at), a
   * new one with the same flags takes [at, end).
   */
  split(at: number): void {
    const v = this.vmaAt(at);
    if (!v || v.start === at) return;
    const tail: Vma = { ...v, start: at };
    v.end = at;
    this.vmas.splice(this.vmas.indexOf(v) + 1, 0, tail);
  }

  /**
   * detach_vmas_to_be_unmapped: split at start and end, remove the vmas of
   * [start, end) from the mm and return them, with the neighbours that bound
   * free_pgtables (prev's end is the floor, next's start the ceiling).
   */
  detach(start: number, end: number): { detached: Vma[]; prev: Vma | undefined; next: Vma | undefined } {
    this.split(start);
    this.split(end);
    const detached = this.overlapping(start, end);
    if (!detached.length) return { detached, prev: undefined, next: undefined };
    const first = this.vmas.indexOf(detached[0]);
    this.vmas.splice(first, detached.length);
    return { detached, prev: first > 0 ? this.vmas[first - 1] : undefined, next: this.vmas[first] };
  }
}
