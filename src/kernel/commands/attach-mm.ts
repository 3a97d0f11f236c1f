import { z } from 'zod';
import { asid, defineCommand, int, vpn } from './define.js';

/** Register on this CPU's Kernel an mm another CPU created, with copies of its vmas. */
export const attachMm = defineCommand({
  op: 'attachMm',
  syscall: undefined,
  summary: 'use on this CPU an mm another CPU created, with its vmas',
  args: z
    .object({
      asid,
      vmas: z.array(z.object({ start: vpn, end: vpn, exec: z.boolean(), write: z.boolean(), huge: z.boolean(), pfnmap: z.boolean() })),
      pendingWord: int(0).optional(),
    })
    .strict(),
  run(ctx, a) {
    ctx.kernel.attachMm(a.asid, a.vmas, ctx.pending(a.pendingWord));
    return { op: 'attachMm', pages: 0 };
  },
});
