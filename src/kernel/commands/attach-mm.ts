import { defineCommand } from './define.js';

/**
 * Use on this CPU an mm another CPU created. Optional: a kernel command on
 * an mm another CPU created attaches it by itself (one mm seen by all). With
 * `vmas`, the command checks that the mm's VMA list is exactly that.
 */
export const attachMm = defineCommand({
  op: 'attachMm',
  syscall: undefined,
  summary: 'use on this CPU an mm another CPU created (optional: any command attaches it); vmas, if given, must be its vma list',
  args: ({ z, asid, vpn }) =>
    z
      .object({
        asid,
        vmas: z.array(z.object({ start: vpn, end: vpn, exec: z.boolean(), write: z.boolean(), huge: z.boolean(), pfnmap: z.boolean(), file: vpn.optional(), pgoff: vpn.optional() }).strict()).optional(),
      })
      .strict(),
  run(ctx, a) {
    ctx.kernel.attachMm(a.asid, a.vmas);
    return { op: 'attachMm', pages: 0 };
  },
});
