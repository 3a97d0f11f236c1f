import { defineCommand } from './define.js';

/** exec's shift_arg_pages: the vma starting at vmaStart (the stack) moves down by `shift` pages. */
export const shiftArgPages = defineCommand({
  op: 'shiftArgPages',
  syscall: 'shift_arg_pages',
  summary: "exec's shift_arg_pages: move the stack vma down by shift pages, free the vacated tables",
  args: ({ z, asid, pages, vpn }) => z.object({ asid, vmaStart: vpn, shift: pages }).strict(),
  run(ctx, a) {
    const mm = ctx.kernel.mm(a.asid);
    const vma = mm.vmaAt(a.vmaStart);
    if (!vma || vma.start !== a.vmaStart) throw new Error(`no vma starts at ${a.vmaStart} in address space ${a.asid}`);
    return ctx.removal('shiftArgPages', a.asid, ctx.kernel.shiftArgPages(mm, vma, a.shift));
  },
});
