import { FrameKind, Pte } from '../machine/constants.js';
import type { Cpu } from '../machine/cpu.js';
import { F } from '../machine/layout.js';
import type { Provenance } from '../machine/provenance.js';

/**
 * The per-CPU page-table quicklist of 2.6-era ia64 and sh
 * (include/linux/quicklist.h, mm/quicklist.c; arch/{ia64,sh}/include/asm/pgalloc.h).
 *
 *   quicklist_free_page   pte_free / pmd_free: the table page (all entries
 *                         clear: "page table pages that are zero on free")
 *                         goes on THIS CPU's list, not back to the allocator
 *   quicklist_alloc       pte_alloc_one / pmd_alloc_one on this CPU: the head
 *                         of this CPU's list if any, else a fresh zeroed page
 *   quicklist_trim        check_pgt_cache (ia64 and sh call it at the end of
 *                         tlb_finish_mmu, after its flush): if the list holds
 *                         more than min_pages, free_page() up to max_free of
 *                         them, keeping max(min_pages, free/16/cpus)
 *
 * Invariants the model keeps, and why they matter:
 * - A parked table is not free: its frame keeps its kind and generation, so a
 *   walker that still holds a pointer to it (a walk-cache entry) reads it
 *   without a violation, and what it reads is empty entries (the kernel
 *   cleared them before freeing the table): harmless, as on the real machine,
 *   where the only non-zero word is the list link, a kernel address whose
 *   present bit is clear.
 * - Only the CPU that parked a table can hand it out again, and only to a
 *   table allocation of its own (the list is per-CPU and used with preemption
 *   off). Handing it out makes it a new allocation: the generation is bumped
 *   exactly as the allocator bumps it, so a walker still holding the old
 *   pointer is caught from then on (it would read the new table's entries).
 * - Frames leave the list for the allocator only in trim(), through
 *   Cpu.freeFrame, the call every kernel free goes through.
 *
 * The list lives in this CPU thread's kernel object (a Kernel is per CPU and
 * per iteration), so no other thread ever sees it: nothing here is shared
 * memory except the frames' metadata, written as the allocator writes it.
 */
export interface QuicklistSpec {
  /** Table levels whose allocations and frees go through the list (1 = PTE, 2 = PMD). */
  levels: readonly (1 | 2)[];
  /** quicklist_trim's min_pages (25 on ia64 and sh). */
  minPages: number;
  /** quicklist_trim's max_free (16 on ia64 and sh). */
  maxFree: number;
}

/** ia64 2.6.38: PTE and PMD tables on quicklist 0; check_pgt_cache = quicklist_trim(0, NULL, 25, 16). */
export const IA64_QUICKLIST: QuicklistSpec = Object.freeze({ levels: [1, 2] as const, minPages: 25, maxFree: 16 });

/**
 * sh 2.6.38: PTE tables on QUICK_PT (pte_alloc_one / pte_free); PMD tables
 * exist only with PAGETABLE_LEVELS > 2 and come from a kmem_cache, not the
 * quicklist; check_pgt_cache = quicklist_trim(QUICK_PT, NULL, 25, 16).
 */
export const SH_QUICKLIST: QuicklistSpec = Object.freeze({ levels: [1] as const, minPages: 25, maxFree: 16 });

/** mm/quicklist.c FRACTION_OF_NODE_MEM. */
const FRACTION_OF_NODE_MEM = 16;

const LEVEL_OF_KIND: Record<number, 1 | 2> = { [FrameKind.TABLE_PTE]: 1, [FrameKind.TABLE_PMD]: 2 };

export class Quicklist {
  /** Parked frames; the last is the list head (q->page), handed out first. */
  private readonly pages: number[] = [];

  constructor(
    private readonly cpu: Cpu,
    readonly spec: QuicklistSpec,
  ) {}

  get length(): number {
    return this.pages.length;
  }

  /** Whether allocations and frees of tables of `level` go through this list. */
  serves(level: number): boolean {
    return (this.spec.levels as readonly number[]).includes(level);
  }

  /**
   * quicklist_free_page: park `frame`, a table already unhooked, with every
   * entry clear. Records who freed it in the frame's metadata (as the
   * allocator's free does), so a violation on it later can name the step.
   */
  free(frame: number): void {
    const { i32, L } = this.cpu;
    for (let i = 0; i < L.W; i++) {
      if (Atomics.load(i32, L.word(frame, i)) & Pte.PRESENT) throw new Error(`quicklist_free of table frame ${frame} with entry ${i} still present`);
    }
    Atomics.store(i32, L.frame(frame, F.PREV_OWNER), Atomics.load(i32, L.frame(frame, F.OWNER)));
    Atomics.store(i32, L.frame(frame, F.FREE_OP), this.cpu.kernelOp());
    Atomics.store(i32, L.frame(frame, F.FREE_ARG), this.cpu.kernelArg());
    Atomics.store(i32, L.frame(frame, F.FREE_CPU), this.cpu.id);
    this.pages.push(frame);
  }

  /**
   * pte_alloc_one / pmd_alloc_one: a table frame of `kind` for `owner`, from
   * the list when it serves that level and is not empty, else from the
   * allocator. -1 when out of frames.
   */
  allocTable(kind: number, owner: number): number {
    const level = LEVEL_OF_KIND[kind];
    if (level === undefined || !this.serves(level) || this.pages.length === 0) return this.cpu.alloc.alloc(kind, owner);
    const f = this.pages.pop() as number;
    this.reinit(f, kind, owner);
    return f;
  }

  /**
   * quicklist_trim (check_pgt_cache). Returns the frames given back to the
   * allocator, in the order freed. Call it only after the flush that covers
   * every table parked here: from then on anyone may get them.
   */
  trim(): number[] {
    const { minPages, maxFree } = this.spec;
    const out: number[] = [];
    if (this.pages.length <= minPages) return out;
    const perCpu = Math.floor(this.cpu.alloc.freeFrames() / FRACTION_OF_NODE_MEM / this.cpu.L.cfg.cpus);
    let n = Math.min(this.pages.length - Math.max(perCpu, minPages), maxFree);
    for (; n > 0; n--) {
      const f = this.pages.pop() as number;
      this.cpu.freeFrame(f);
      out.push(f);
    }
    return out;
  }

  /**
   * The frame becomes a new table: zeroed (entries and shadows), generation
   * bumped, owner and kind set, in the allocator's order (generation before
   * the new owner can publish the frame), then the allocator's change hook.
   */
  private reinit(f: number, kind: number, owner: number): void {
    const { i32, L } = this.cpu;
    i32.fill(0, L.word(f, 0), L.word(f, L.W));
    i32.fill(0, L.shadowWord(f, 0), L.shadowWord(f, L.W));
    Atomics.add(i32, L.frame(f, F.GEN), 1);
    Atomics.store(i32, L.frame(f, F.OWNER), owner);
    Atomics.store(i32, L.frame(f, F.KIND), kind);
    this.cpu.alloc.onChange?.(f, kind, false);
  }
}

export const provenance: Provenance = {
  version: '2.6.38',
  tree: 'mm/quicklist.c and include/linux/quicklist.h as found by find_string (unchanged 2.6.26-4.x); pgalloc.h from TheWhisp/android_kernel_samsung_msm7x27a (3.4-era, the quicklist calls as in 2.6.38)',
  files: [
    'include/linux/quicklist.h (quicklist_alloc, quicklist_free_page)',
    'mm/quicklist.c (max_pages, min_pages_to_free, quicklist_trim)',
    'arch/ia64/include/asm/pgalloc.h (pte/pmd_alloc_one, pte_free, pmd_free: quicklist 0; check_pgt_cache: quicklist_trim(0, NULL, 25, 16))',
    'arch/sh/include/asm/pgalloc.h (pte_alloc_one, pte_free: QUICK_PT; check_pgt_cache: quicklist_trim(QUICK_PT, NULL, 25, 16))',
  ],
  deviations: [
    'The link word quicklist_free writes into the parked page is not written: entries read as clear (the link is a kernel address with the present bit clear, so a walker sees not-present either way).',
    'Node free pages are the machine allocator\'s free frames, and every CPU is on one node.',
    'check_pgt_cache is only called from tlb_finish_mmu; the idle loop\'s calls (a CPU that runs no kernel script never idles here) are not modelled.',
    'The pgd is not allocated from the quicklist (ia64 pgd_alloc uses it); the pgd is never freed while walkers of the mm run.',
  ],
};
