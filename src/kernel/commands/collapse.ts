import { defineCommand } from './define.js';

/** khugepaged collapsing the PTE table that maps vpn into a huge page (kernel/collapse.ts). */
export const collapse = defineCommand({
  op: 'collapse',
  syscall: 'khugepaged',
  summary: "khugepaged: clear the pmd of vpn's PTE table, flush, (sync IPI), copy into new pages, free the old table and pages",
  args: ({ z, asid, vpn }) => z.object({ asid, vpn }).strict(),
  run(ctx, a) {
    return ctx.removal('collapse', a.asid, ctx.kernel.collapse(ctx.kernel.mm(a.asid), a.vpn));
  },
});
