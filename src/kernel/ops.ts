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

/** Top-level operations (the system call, or the mm-level caller). */
export const Syscall = {
  NONE: 0,
  MMAP: 1,
  /** Demand fault-in of a mapped range (handle_mm_fault, done eagerly). */
  FAULT: 2,
  MUNMAP: 3,
  MADVISE_DONTNEED: 4,
  /** exec: moving the new stack down (fs/exec.c shift_arg_pages). */
  SHIFT_ARG_PAGES: 5,
  EXIT_MMAP: 6,
} as const;
export const SYSCALL_NAMES = ['none', 'mmap', 'fault', 'munmap', 'madvise(DONTNEED)', 'shift_arg_pages', 'exit_mmap'] as const;

/** Kernel functions a syscall passes through. */
export const Step = {
  NONE: 0,
  /** unmap_vmas / unmap_page_range / zap_pte_range: clearing PTEs. */
  UNMAP_VMAS: 1,
  TLB_GATHER_MMU: 2,
  TLB_START_VMA: 3,
  TLB_REMOVE_TLB_ENTRY: 4,
  TLB_REMOVE_PAGE: 5,
  TLB_END_VMA: 6,
  /** free_pgtables / free_pgd_range: unhooking page-table pages. */
  FREE_PGTABLES: 7,
  PTE_FREE_TLB: 8,
  PMD_FREE_TLB: 9,
  TLB_FLUSH_MMU: 10,
  TLB_FINISH_MMU: 11,
  /** tlb_table_flush: the RCU-like deferral of table frees (linux-6). */
  TLB_TABLE_FLUSH: 12,
  /** mm/mremap.c move_page_tables (shift_arg_pages). */
  MOVE_PAGE_TABLES: 13,
  /** Freeing the pgd at the end of exit (mm_free_pgd). */
  FREE_PGD: 14,
  /** Allocating and mapping frames (fault-in). */
  FAULT_IN: 15,
} as const;
export const STEP_NAMES = [
  '',
  'unmap_vmas',
  'tlb_gather_mmu',
  'tlb_start_vma',
  'tlb_remove_tlb_entry',
  'tlb_remove_page',
  'tlb_end_vma',
  'free_pgtables',
  'pte_free_tlb',
  'pmd_free_tlb',
  'tlb_flush_mmu',
  'tlb_finish_mmu',
  'tlb_table_flush',
  'move_page_tables',
  'free_pgd',
  'fault_in',
] as const;

export type SyscallCode = (typeof Syscall)[keyof typeof Syscall];
export type StepCode = (typeof Step)[keyof typeof Step];

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
