import type { Cpu } from '../machine/cpu.js';
import { A, type Layout } from '../machine/layout.js';

/**
 * The kernel's view of one address space (mm_struct): its ASID (the machine's
 * address-space slot), its VMAs, its users count and tlb_flush_pending.
 *
 * One mm seen by all: everything kernel code on several CPUs must agree on
 * lives in the address space's slot of the shared buffer (layout.ts A): the
 * VMA list, tlb_flush_pending, the mmap_lock and the page_table_lock; the
 * page tables and the cpumask are the machine's. An Mm object is a view of
 * that slot, one per CPU's Kernel; it keeps no private copy: every query
 * reads the shared list, every change writes it back whole.
 *
 * Locking (the kernel's): the VMA list changes only under mmap_lock held for
 * write, and is read under it held for read or write (kernel/syscalls.ts
 * takes it). The Vma objects handed out are snapshots; change a vma with
 * adjust(), never by assigning to the snapshot.
 *
 * Invariants: vmas are sorted by start, never overlap, and start < end. All
 * addresses are virtual page numbers; ranges are half-open [start, end).
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
  /**
   * vm_file: the file (machine file slot) this shared mapping maps, with
   * vm_pgoff, the file page at `start`; absent for anonymous memory. A
   * file vma is in its file's i_mmap (kernel/file-cache.ts) from vma_link
   * to unlink_file_vma.
   */
  file?: number;
  pgoff?: number;
}

export type VmaFlags = Partial<Pick<Vma, 'exec' | 'write' | 'huge' | 'pfnmap' | 'file' | 'pgoff'>>;

/** The file page that `vpn` of file vma `vma` maps (linear_page_index). */
export function filePageOf(vma: Vma, vpn: number): number {
  return (vma.pgoff ?? 0) + (vpn - vma.start);
}

/**
 * mm->tlb_flush_pending: how many gathers on this mm are between
 * tlb_gather_mmu and tlb_finish_mmu (A.FLUSH_PENDING of the mm's slot).
 */
export interface FlushPendingCounter {
  /** Increment; returns the new value. */
  inc(): number;
  /** Decrement; returns the new value. */
  dec(): number;
  read(): number;
}

/** A counter in one word of a shared Int32Array. */
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

const FLAG = { exec: 1, write: 2, huge: 4, pfnmap: 8 } as const;

/** A vma's flag bits as one word (the VMA list and the i_mmap records store them so). */
export function encodeVmaFlags(v: Pick<Vma, 'exec' | 'write' | 'huge' | 'pfnmap'>): number {
  return (v.exec ? FLAG.exec : 0) | (v.write ? FLAG.write : 0) | (v.huge ? FLAG.huge : 0) | (v.pfnmap ? FLAG.pfnmap : 0);
}
export function decodeVmaFlags(f: number): Pick<Vma, 'exec' | 'write' | 'huge' | 'pfnmap'> {
  return { exec: (f & FLAG.exec) !== 0, write: (f & FLAG.write) !== 0, huge: (f & FLAG.huge) !== 0, pfnmap: (f & FLAG.pfnmap) !== 0 };
}

export class Mm {
  /** mm_users: threads using the address space (this view's; exit sets it to 0). */
  users = 1;
  readonly tlbFlushPending: FlushPendingCounter;
  constructor(
    private readonly i32: Int32Array,
    private readonly L: Layout,
    readonly asid: number,
  ) {
    this.tlbFlushPending = new SharedCounter(i32, L.space(asid, A.FLUSH_PENDING));
  }

  /**
   * mm_alloc + pgd_alloc: create the machine address space (an empty pgd),
   * with an empty VMA list and no gathers pending.
   * Throws when the slot exists or no frame is left for the pgd.
   */
  static create(cpu: Cpu, asid: number): Mm {
    if (!cpu.pt.createSpace(asid)) throw new Error(`out of frames creating the pgd of address space ${asid}`);
    const mm = new Mm(cpu.i32, cpu.L, asid);
    Atomics.store(cpu.i32, cpu.L.space(asid, A.VMA_COUNT), 0);
    Atomics.store(cpu.i32, cpu.L.space(asid, A.FLUSH_PENDING), 0);
    return mm;
  }

  /** The VMA list now, sorted (snapshots). */
  get vmas(): Vma[] {
    const { i32, L, asid } = this;
    const n = Atomics.load(i32, L.space(asid, A.VMA_COUNT));
    const out: Vma[] = [];
    for (let i = 0; i < n; i++) {
      const f = Atomics.load(i32, L.vma(asid, i, 2));
      const file = Atomics.load(i32, L.vma(asid, i, 3)) - 1;
      out.push({
        start: Atomics.load(i32, L.vma(asid, i, 0)),
        end: Atomics.load(i32, L.vma(asid, i, 1)),
        ...decodeVmaFlags(f),
        ...(file >= 0 ? { file, pgoff: Atomics.load(i32, L.vma(asid, i, 4)) } : {}),
      });
    }
    return out;
  }

  /** Write the whole list back (sorted, non-overlapping: the callers keep that). */
  private store(vmas: readonly Vma[]): void {
    const { i32, L, asid } = this;
    if (vmas.length > A.MAX_VMAS) throw new Error(`more than ${A.MAX_VMAS} vmas in address space ${asid}`);
    vmas.forEach((v, i) => {
      Atomics.store(i32, L.vma(asid, i, 0), v.start);
      Atomics.store(i32, L.vma(asid, i, 1), v.end);
      Atomics.store(i32, L.vma(asid, i, 2), encodeVmaFlags(v));
      Atomics.store(i32, L.vma(asid, i, 3), v.file === undefined ? 0 : v.file + 1);
      Atomics.store(i32, L.vma(asid, i, 4), v.pgoff ?? 0);
    });
    Atomics.store(i32, L.space(asid, A.VMA_COUNT), vmas.length);
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
    const vmas = this.vmas;
    vmas.push({ ...vma });
    vmas.sort((a, b) => a.start - b.start);
    this.store(vmas);
  }

  /** The vma before / after `vma` in address order (vm_prev / vm_next), by address. */
  prev(vma: Vma): Vma | undefined {
    return this.vmas.filter((v) => v.end <= vma.start).pop();
  }
  next(vma: Vma): Vma | undefined {
    return this.vmas.find((v) => v.start >= vma.end);
  }

  /**
   * vma_adjust: the vma that starts at `vma.start` now covers [start, end),
   * which must not overlap another vma. Returns the new snapshot.
   */
  adjust(vma: Vma, start: number, end: number): Vma {
    const vmas = this.vmas;
    const i = vmas.findIndex((v) => v.start === vma.start && v.end === vma.end);
    if (i < 0) throw new Error(`no vma [${vma.start}, ${vma.end}) in address space ${this.asid}`);
    if (!(start < end) || vmas.some((v, k) => k !== i && v.start < end && start < v.end)) throw new Error(`vma [${start}, ${end}) would overlap another mapping`);
    vmas[i] = { ...vmas[i], start, end };
    this.store(vmas);
    return vmas[i];
  }

  /** Remove every vma (exit_mmap). */
  clear(): void {
    this.store([]);
  }

  /**
   * split_vma at `at` (strictly inside a vma): the vma keeps [start, at), a
   * new one with the same flags (and, for a file vma, the file page at
   * `at`) takes [at, end). Returns the vma split, or undefined if `at` is
   * inside none. A file vma's i_mmap record is the caller's to split
   * (kernel/file-cache.ts FileCache.splitMap, under i_mmap_rwsem).
   */
  split(at: number): Vma | undefined {
    const vmas = this.vmas;
    const i = vmas.findIndex((v) => v.start < at && at < v.end);
    if (i < 0) return undefined;
    const v = vmas[i];
    const tail: Vma = { ...v, start: at };
    if (v.file !== undefined) tail.pgoff = filePageOf(v, at);
    vmas.splice(i, 1, { ...v, end: at }, tail);
    this.store(vmas);
    return v;
  }

  /**
   * detach_vmas_to_be_unmapped: split at start and end, remove the vmas of
   * [start, end) from the mm and return them, with the neighbours that bound
   * free_pgtables (prev's end is the floor, next's start the ceiling), and
   * the splits made (each vma as it was before, and where it was split), for
   * the caller to mirror in a file vma's i_mmap.
   */
  detach(start: number, end: number): { detached: Vma[]; prev: Vma | undefined; next: Vma | undefined; splits: { vma: Vma; at: number }[] } {
    const splits: { vma: Vma; at: number }[] = [];
    for (const at of [start, end]) {
      const v = this.split(at);
      if (v) splits.push({ vma: v, at });
    }
    const vmas = this.vmas;
    const detached = vmas.filter((v) => v.start < end && start < v.end);
    if (!detached.length) return { detached, prev: undefined, next: undefined, splits };
    const first = vmas.indexOf(detached[0]);
    vmas.splice(first, detached.length);
    this.store(vmas);
    return { detached, prev: first > 0 ? vmas[first - 1] : undefined, next: vmas[first], splits };
  }
}
