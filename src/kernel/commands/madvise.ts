import { defineCommand } from './define.js';

/** madvise(MADV_DONTNEED): zap_page_range per vma; the page tables stay. */
export const madvise = defineCommand({
  op: 'madvise',
  syscall: 'madvise(DONTNEED)',
  summary: 'madvise(MADV_DONTNEED) [start, end): zap the PTEs, flush and free the pages; tables stay',
  args: ({ z, asid, vpn }) => z.object({ asid, start: vpn, end: vpn }).strict(),
  run(ctx, a) {
    return ctx.removal('madvise', a.asid, ctx.kernel.madviseDontneed(ctx.kernel.mm(a.asid), a.start, a.end));
  },
});
