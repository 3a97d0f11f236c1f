import { z } from 'zod';
import { asid, defineCommand, pages, vpn } from './define.js';

/** mmap a new vma [start, start + pages), then fault its pages in (unless fault is false). */
export const mmap = defineCommand({
  op: 'mmap',
  syscall: 'mmap',
  summary: 'map a vma and (unless fault: false) fault its pages in',
  args: z
    .object({
      asid,
      start: vpn,
      pages,
      exec: z.boolean().optional(),
      write: z.boolean().optional(),
      huge: z.boolean().optional(),
      pfnmap: z.boolean().optional(),
      fault: z.boolean().optional(),
    })
    .strict(),
  run(ctx, a) {
    const mm = ctx.kernel.mm(a.asid);
    ctx.kernel.mmap(mm, a.start, a.pages, a);
    const n = a.fault === false ? 0 : ctx.kernel.faultIn(mm, a.start, a.start + a.pages);
    return { op: 'mmap', pages: n };
  },
});
