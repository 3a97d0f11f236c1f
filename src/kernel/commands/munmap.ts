import { defineCommand } from './define.js';

/** munmap(start, end): do_munmap → unmap_region (zap, free_pgtables, tlb_finish_mmu). */
export const munmap = defineCommand({
  op: 'munmap',
  syscall: 'munmap',
  summary: 'unmap [start, end): zap the PTEs, free the page tables, flush and free',
  args: ({ z, asid, vpn }) => z.object({ asid, start: vpn, end: vpn }).strict(),
  run(ctx, a) {
    return ctx.removal('munmap', a.asid, ctx.kernel.munmap(ctx.kernel.mm(a.asid), a.start, a.end));
  },
});
