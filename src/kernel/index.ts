export * from './ops.js';
export { Mm, SharedCounter, type Vma, type VmaFlags, type FlushPendingCounter } from './mm.js';
export {
  MmuGather,
  DEFAULT_BATCH_CAPACITY,
  type GatherOptions,
  frameKindOf,
  tlb_gather_mmu,
  tlb_start_vma,
  tlb_end_vma,
  tlb_remove_tlb_entry,
  tlb_remove_page,
  pte_free_tlb,
  pmd_free_tlb,
  tlb_flush_mmu,
  tlb_finish_mmu,
} from './mmu-gather.js';
export * from './gather-trace.js';
export { POLICIES, POLICY_ALIASES, POLICY_OPTIONS, POLICY_REGISTRY, PROVENANCE, policiesTaking, policyNames, canonicalPolicyName, isPolicyName, createPolicy, gupFastOf, type PolicyEntry, type PolicyFactory, type PolicyOptionSpec, type OptionsOf, type PolicyOptions, type TlbPolicy } from './policies/index.js';
export { unmapPageRange, unmapVmas, freePgdRange, freePgtables, movePageTables, type MoveFlush, type MoveOptions } from './memory.js';
export { FileCache, type FileMap } from './file-cache.js';
export type { MremapArgs } from './mremap.js';
export { Kernel, KernelError, type KernelOptions, type SyscallResult, type GatherReport, type RemovedRange } from './syscalls.js';
export { staleAfterReturn, staleTablePointers, recordStaleAfterReturn, entryIsCurrent, type StaleEntry } from './stale.js';
export { runKernelScript, type KernelCommand, type KernelCommandResult } from './script.js';
export { hardwareOf, isHypothetical } from './policies/hardware.js';
