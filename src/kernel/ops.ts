import { KERNEL_COMMANDS, type SyscallName } from './commands/index.js';

/**
 * Kernel-operation codes for Cpu.setKernelOp.
 *
 * The machine records the code in flight on the freeing CPU with every free,
 * and again when a violation is seen, so a report can say "freed by
 * munmap/tlb_remove_page, while that CPU is now in munmap/tlb_end_vma".
 *
 * A code is (syscall << 8) | step: the syscall names what the coordinator was
 * asked to do, the step names the kernel function inside it. The argument that
 * goes with it (KERNEL_ARG) is a vpn for range steps and a frame for frees.
 */

/**
 * Top-level operations: the system calls the kernel commands declare
 * (src/kernel/commands/), code 0 being "none". Codes follow the commands'
 * order; they live only within one run (a report prints their names).
 */
export const SYSCALL_NAMES: readonly string[] = Object.freeze(['none', ...new Set(KERNEL_COMMANDS.flatMap((d) => (d.syscall === undefined ? [] : [d.syscall as string])))]);

/** The code of system call `name` for Cpu.setKernelOp (through kernelOp). */
export function syscallCode(name: SyscallName | 'none'): number {
  const code = SYSCALL_NAMES.indexOf(name);
  if (code < 0) throw new Error(`no kernel command declares system call '${name}'`);
  return code;
}

/**
 * Kernel functions a syscall passes through, each with the name reports print
 * (the one table of them: Step and STEP_NAMES derive from it).
 */
const STEPS = {
  NONE: '',
  /** unmap_vmas / unmap_page_range / zap_pte_range: clearing PTEs. */
  UNMAP_VMAS: 'unmap_vmas',
  TLB_GATHER_MMU: 'tlb_gather_mmu',
  TLB_START_VMA: 'tlb_start_vma',
  TLB_REMOVE_TLB_ENTRY: 'tlb_remove_tlb_entry',
  TLB_REMOVE_PAGE: 'tlb_remove_page',
  TLB_END_VMA: 'tlb_end_vma',
  /** free_pgtables / free_pgd_range: unhooking page-table pages. */
  FREE_PGTABLES: 'free_pgtables',
  PTE_FREE_TLB: 'pte_free_tlb',
  PMD_FREE_TLB: 'pmd_free_tlb',
  TLB_FLUSH_MMU: 'tlb_flush_mmu',
  TLB_FINISH_MMU: 'tlb_finish_mmu',
  /** tlb_table_flush: the RCU-like deferral of table frees (linux-6). */
  TLB_TABLE_FLUSH: 'tlb_table_flush',
  /** mremap's copy_vma: the new vma is in the mm and in its file's i_mmap; nothing moved yet. */
  COPY_VMA: 'copy_vma',
  /** mm/mremap.c move_page_tables (shift_arg_pages, mremap): moving PTEs. */
  MOVE_PAGE_TABLES: 'move_page_tables',
  /** move_page_tables after its last extent, PTE locks dropped: where 3.2-4.18 flush the old range. */
  MOVE_PAGE_TABLES_FLUSH: 'move_page_tables_flush',
  /** Freeing the pgd at the end of exit (mm_free_pgd). */
  FREE_PGD: 'free_pgd',
  /** Allocating and mapping frames (fault-in). */
  FAULT_IN: 'fault_in',
  /** truncate: unmap_mapping_range walking the file's i_mmap. */
  UNMAP_MAPPING_RANGE: 'unmap_mapping_range',
  /** truncate: truncate_inode_pages dropping page-cache pages past the new size. */
  TRUNCATE_INODE_PAGES: 'truncate_inode_pages',
  /** The call holds mmap_lock (for read or write, as the call takes it). */
  MMAP_LOCK: 'mmap_lock',
  /** munmap has downgraded mmap_lock to read (4.20+: dd2283f2605e). */
  MMAP_WRITE_DOWNGRADE: 'mmap_write_downgrade',
  /** The call has returned (and its "no stale translation" check is done). */
  RETURN: 'return',
  /** khugepaged: the pmd entry is cleared and the span flushed (mm/khugepaged.c). */
  PMDP_COLLAPSE_FLUSH: 'pmdp_collapse_flush',
  /** tlb_remove_table_sync_one: waiting out lockless walkers (2ba99c5e0881). */
  TLB_REMOVE_TABLE_SYNC_ONE: 'tlb_remove_table_sync_one',
  /** khugepaged: copying the pages into the huge page (before the pmd is cleared), and releasing the old ones (at the end). */
  COLLAPSE_COPY: 'collapse_copy',
  /** khugepaged: freeing the old PTE table. */
  PTE_FREE: 'pte_free',
} as const;

/** Step codes by key (Step.TLB_REMOVE_PAGE). */
export const Step = Object.freeze(Object.fromEntries(Object.keys(STEPS).map((k, i) => [k, i]))) as { readonly [K in keyof typeof STEPS]: number };
/** Step names by code. */
export const STEP_NAMES: readonly string[] = Object.freeze(Object.values(STEPS));

/**
 * The kernel points a script can wait for or hold (waitPoint, holdPoint):
 * every named step, each reached when a CPU's kernel enters it (Cpu.setKernelOp
 * marks it in the machine, layout.ts POINT_WORDS), with one line on where it is.
 */
export const KERNEL_POINTS: readonly { name: string; where: string }[] = Object.freeze(
  [
    ['mmap_lock', 'the call has taken mmap_lock (write: mmap, munmap, mremap, shift_arg_pages, exit; read: madvise, fault)'],
    ['mmap_write_downgrade', 'munmap, 4.20+ policies: the vmas are detached and mmap_lock is now held for read (downgraded from write)'],
    ['tlb_gather_mmu', 'a gather starts: tlb_flush_pending is about to rise'],
    ['tlb_start_vma', 'the gather notes a vma'],
    ['unmap_vmas', 'clearing PTEs (reached at each PTE cleared)'],
    ['tlb_remove_tlb_entry', 'a cleared PTE widens the range'],
    ['tlb_remove_page', 'a page goes to the batch (or is freed, by the policies that free at once)'],
    ['tlb_end_vma', "the vma's PTEs are cleared; whatever flush tlb_end_vma does has not happened yet"],
    ['free_pgtables', 'unhooking page-table pages (PTEs cleared, tables not yet handed over)'],
    ['pte_free_tlb', 'a PTE table goes to the gather'],
    ['pmd_free_tlb', 'a PMD table goes to the gather'],
    ['tlb_flush_mmu', 'a forced flush and free of a full batch (the final one is tlb_finish_mmu)'],
    ['tlb_table_flush', 'linux-6: the table batch is invalidated and freed'],
    ['tlb_finish_mmu', 'the final flush; tlb_flush_pending is still raised'],
    ['copy_vma', "mremap: the new vma is in the mm (and its file's i_mmap); no PTE moved yet"],
    ['move_page_tables', 'shift_arg_pages, mremap: moving PTEs (reached at each PTE moved)'],
    ['move_page_tables_flush', 'shift_arg_pages, mremap: every PTE moved and the PTE locks dropped; the flush 3.2-4.18 make here (all PTEs, or the clean ones) has not happened'],
    ['free_pgd', 'exit: the pgd is freed'],
    ['fault_in', 'fault: mapping a page'],
    ['unmap_mapping_range', 'truncate: i_size is set; about to zap every vma of the file past it (i_mmap_rwsem held)'],
    ['truncate_inode_pages', 'truncate: every mapping zapped; a page past i_size is about to leave the page cache (reached at each page, locked)'],
    ['return', 'the call has returned, its "no stale translation after return" check done'],
    ['pmdp_collapse_flush', 'khugepaged: the pmd entry to the PTE table is cleared and the span is being flushed'],
    ['tlb_remove_table_sync_one', 'khugepaged (2ba99c5e0881): the synchronising IPI that waits out gup_fast'],
    ['collapse_copy', 'khugepaged: copying into the new pages (the old mapping untouched yet); reached again when the old pages are released'],
    ['pte_free', 'khugepaged: the old PTE table is about to be freed'],
  ].map(([name, where]) => ({ name, where })),
);

/** The step code of kernel point `name`, or -1. */
export function pointStep(name: string): number {
  return name === '' ? -1 : STEP_NAMES.indexOf(name);
}


/** The code to pass to Cpu.setKernelOp for `step` inside `syscall`. */
export function kernelOp(syscall: number, step: number): number {
  return ((syscall & 0xff) << 8) | (step & 0xff);
}

export function syscallOf(code: number): number {
  return (code >>> 8) & 0xff;
}
export function stepOf(code: number): number {
  return code & 0xff;
}

/** "munmap/tlb_remove_page", "exit_mmap", or "none" for 0. */
export function kernelOpName(code: number): string {
  const sc = syscallOf(code);
  const st = stepOf(code);
  const s = SYSCALL_NAMES[sc] ?? `syscall ${sc}`;
  if (st === 0) return s;
  return `${s}/${STEP_NAMES[st] ?? `step ${st}`}`;
}

/**
 * What the argument recorded with a kernel step (Cpu.setKernelOp, KERNEL_ARG)
 * is, so a story prints a frame as a frame and an address as an address:
 * the steps that hand over a page or table pass its frame, mmap_lock and
 * free_pgd the address space, truncate_inode_pages a page index of the file,
 * the bookkeeping steps nothing; every other step a virtual page number.
 * collapse_copy passes a vpn when copying and a frame when releasing, so it
 * is printed as a plain number.
 */
export type StepArg = 'vpn' | 'frame' | 'asid' | 'index' | 'none' | 'number';
const STEP_ARGS: Partial<Record<keyof typeof STEPS, StepArg>> = {
  TLB_REMOVE_PAGE: 'frame',
  PTE_FREE_TLB: 'frame',
  PMD_FREE_TLB: 'frame',
  PTE_FREE: 'frame',
  MMAP_LOCK: 'asid',
  FREE_PGD: 'asid',
  TRUNCATE_INODE_PAGES: 'index',
  TLB_GATHER_MMU: 'none',
  TLB_FLUSH_MMU: 'none',
  TLB_TABLE_FLUSH: 'none',
  RETURN: 'none',
  COLLAPSE_COPY: 'number',
};

/** The kind of argument kernel op `code` records (see STEP_ARGS). */
export function stepArg(code: number): StepArg {
  const key = (Object.keys(STEPS) as (keyof typeof STEPS)[])[stepOf(code)];
  return (key && STEP_ARGS[key]) || 'vpn';
}
