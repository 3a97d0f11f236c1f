import { defineCommand } from './define.js';

/** mremap(start, pages, pages, MREMAP_MAYMOVE | MREMAP_FIXED, newStart): move [start, start + pages) to newStart (kernel/mremap.ts). */
export const mremap = defineCommand({
  op: 'mremap',
  syscall: 'mremap',
  summary: 'mremap(MREMAP_MAYMOVE | MREMAP_FIXED): move [start, start + pages) of one vma to newStart (copy_vma, move_page_tables, do_munmap of the old range)',
  args: ({ z, asid, pages, vpn }) => z.object({ asid, start: vpn, pages, newStart: vpn }).strict(),
  run(ctx, a) {
    return ctx.removal('mremap', a.asid, ctx.kernel.mremap(ctx.kernel.mm(a.asid), a));
  },
});
