/**
 * The ten races of the class smpsim exists for (docs/domain.md section 5,
 * in their numbering), each with the fix that closed it. A scenario names
 * the race it models in its `domain` field ('5.4'); `smpsim list` pairs them.
 */
export interface Race {
  /** '5.1' ... '5.10'. */
  id: string;
  name: string;
  /** What closed it (commit and kernel version), or what keeps it closed. */
  fix: string;
}

export const RACES: readonly Race[] = Object.freeze([
  { id: '5.1', name: 'ARM SMP delayed free: pages freed before the flush', fix: '06824ba824b3 (2.6.38): batch the pages, free after the flush' },
  { id: '5.2', name: 'speculative walk through a table freed with no covering flush', fix: 'a flush after pmd_clear that reaches the walk caches, before the table is freed (ARM: 06824ba824b3; today: freed_tables)' },
  { id: '5.3', name: "exec's shift_arg_pages frees tables in a gather that never flushes", fix: 'pte_free_tlb makes the gather flush (ARM: 06824ba824b3 adds the table\'s address to the range; generic 3.0: need_flush)' },
  { id: '5.4', name: 'gup_fast reads a table freed after a broadcast flush', fix: 'RCU table freeing / tlb_remove_table_sync_one (x86: a37259732a7d with INVLPGB, 6.15)' },
  { id: '5.5', name: 'table batch allocation fails: the fallback frees without invalidating', fix: 'd86564a2f085 (4.19): tlb_table_invalidate before tlb_remove_table_one' },
  { id: '5.6', name: 'lazy TLB CPU skipped by the flush of a table free', fix: 'freed_tables IPIs lazy CPUs (4.20, 145f573b89a6, 016c4d92cd16); flush_tlb_range too (3ef938c35035, 2025)' },
  { id: '5.7', name: 'mremap flushes after dropping the PTE locks; truncate frees the page', fix: 'eb66ae030829 (4.19, CVE-2018-18281): flush before unlocking' },
  { id: '5.8', name: 'parallel MADV_DONTNEED returns before the other call flushed', fix: '99baac21e458 (4.13): tlb_flush_pending and the nested flush' },
  { id: '5.9', name: 'a nested gather drops freed_tables', fix: '7a30df49f63a (5.2): a fullmm flush with freed_tables' },
  { id: '5.10', name: 'khugepaged frees a collapsed table under gup_fast', fix: '2ba99c5e0881 (6.2): tlb_remove_table_sync_one after pmdp_collapse_flush' },
]);
