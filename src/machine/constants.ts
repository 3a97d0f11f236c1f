/**
 * Encodings shared by every part of the simulated machine.
 *
 * Everything the threads share is a 32-bit word in one SharedArrayBuffer, so
 * every encoding here fits one Int32 word and can be read or replaced with a
 * single Atomics operation: no reader ever sees half of an update.
 */

/** Frame kinds. A table frame's kind names its level: PTE tables are level 1. */
export const FrameKind = {
  FREE: 0,
  DATA: 1,
  TABLE_PTE: 2,
  TABLE_PMD: 3,
  TABLE_PGD: 4,
} as const;
export type FrameKindCode = (typeof FrameKind)[keyof typeof FrameKind];

export const FRAME_KIND_NAMES = ['free', 'data', 'table-pte', 'table-pmd', 'table-pgd'] as const;

/** Table kind for a level: 1 = PTE table, 2 = PMD table, 3 = PGD. */
export function tableKindOfLevel(level: number): number {
  return FrameKind.TABLE_PTE + level - 1;
}

/**
 * Page-table entry: frame number in the low 20 bits, flags above. Upper-level
 * entries use the same layout with only PRESENT set (plus the next table's
 * frame). An entry with PRESENT clear is "none", whatever else it holds.
 */
export const PTE_FRAME_BITS = 20;
export const PTE_FRAME_MASK = (1 << PTE_FRAME_BITS) - 1;
export const Pte = {
  PRESENT: 1 << 20,
  WRITE: 1 << 21,
  EXEC: 1 << 22,
  YOUNG: 1 << 23,
  DIRTY: 1 << 24,
} as const;
export const MAX_FRAMES = 1 << PTE_FRAME_BITS;

/**
 * TLB tag: (asid + 1) << 24 | vpn. Zero means invalid, so a single
 * compare-and-swap to zero invalidates an entry whatever its owner is doing.
 * Hence vpn < 2^24 (three levels of at most 256 entries) and asid < 127.
 */
export const TAG_VPN_BITS = 24;
export const TAG_VPN_MASK = (1 << TAG_VPN_BITS) - 1;
export const MAX_ASIDS = 126;

/**
 * Walk-cache tag: (asid + 1) << 24 | level << 20 | prefix, where prefix is the
 * vpn shifted right by the span of one entry of that level. Level 1 entries
 * cache a pointer to a PTE table, level 2 entries a pointer to a PMD table.
 */
export const WC_LEVEL_SHIFT = 20;
export const WC_PREFIX_MASK = (1 << WC_LEVEL_SHIFT) - 1;

/** Which caches a flush request targets. */
export const Which = {
  DTLB: 1,
  ITLB: 2,
  /** Walk caches explicitly (a non-leaf invalidate). */
  WALK: 4,
  ALL: 7,
  /**
   * Not a cache: set on the flush requests of kernels whose flush handler
   * makes a CPU in lazy TLB mode leave the mm (x86 flush_tlb_func:
   * switch_mm_irqs_off(NULL, &init_mm)). Ignored by the invalidation itself.
   */
  LAZY_LEAVE: 8,
} as const;

/** Flush request kinds, posted in IPI mailboxes or applied by broadcast. */
export const FlushKind = {
  /** No invalidation: a synchronising IPI (tlb_remove_table_sync_one). */
  SYNC: 0,
  /** Every entry of every address space. */
  ALL: 1,
  /** Every entry of one address space. */
  ASID: 2,
  /** Entries of one address space whose vpn lies in [start, end). */
  RANGE: 3,
} as const;
export const FLUSH_KIND_NAMES = ['sync', 'all', 'asid', 'range'] as const;

/** Access types of a CPU step. */
export const Access = {
  LOAD: 0,
  STORE: 1,
  FETCH: 2,
} as const;
export type AccessCode = (typeof Access)[keyof typeof Access];

/**
 * Violation kinds recorded by the checker: the one table of them. Each kind's
 * code is what the machine stores in a record; its name is what reports,
 * traces and the JSON schema print; its description is what `docs/` and
 * `smpsim list` say. Add a kind here and at its detection site, nowhere else.
 */
export const VIOLATION_KINDS = {
  STALE_DATA: { code: 1, name: 'stale-data-access', description: 'a load or store through a TLB entry whose frame was freed or reallocated' },
  STALE_FETCH: { code: 2, name: 'stale-instruction-fetch', description: 'an instruction fetch through a stale I-TLB entry' },
  WALK_TABLE: { code: 3, name: 'walker-read-freed-table', description: 'a hardware walker (demand or speculative) read a page-table frame that was freed or reused' },
  GUP_TABLE: { code: 4, name: 'gup-fast-read-freed-table', description: 'a lockless software walker (gup_fast) read a page-table frame that was freed or reused' },
  GUP_PIN: { code: 5, name: 'gup-fast-pinned-freed-page', description: 'gup_fast took a reference on a data frame that was freed or reallocated since its PTE was read' },
  STALE_AFTER_RETURN: { code: 6, name: 'stale-translation-after-return', description: 'a translation for a removed range survived the system call that removed it' },
} as const;
type KindKey = keyof typeof VIOLATION_KINDS;

/** Kind codes by key, for detection sites (ViolationKind.STALE_DATA). */
export const ViolationKind = Object.freeze(Object.fromEntries(Object.entries(VIOLATION_KINDS).map(([k, v]) => [k, v.code]))) as {
  readonly [K in KindKey]: (typeof VIOLATION_KINDS)[K]['code'];
};

/** Kind names by code (index 0 unused). */
export const VIOLATION_KIND_NAMES: readonly string[] = (() => {
  const names: string[] = [''];
  for (const v of Object.values(VIOLATION_KINDS)) names[v.code] = v.name;
  return Object.freeze(names);
})();

/** What the CPU was doing when a violation fired. */
export const CpuOp = {
  NONE: 0,
  LOAD: 1,
  STORE: 2,
  FETCH: 3,
  SPECULATIVE_WALK: 4,
  GUP_FAST: 5,
  IRQ_OFF: 6,
  SWITCH_MM: 7,
  IDLE: 8,
  KERNEL: 9,
} as const;
export const CPU_OP_NAMES = [
  'none',
  'load',
  'store',
  'fetch',
  'speculative walk',
  'gup_fast walk',
  'interrupts off',
  'switch mm',
  'idle',
  'kernel',
] as const;
