import { z } from 'zod';
import { asid, defineCommand, int } from './define.js';

/** A new mm with an empty pgd in machine slot `asid`; pendingWord shares its tlb_flush_pending through a scratch word. */
export const createMm = defineCommand({
  op: 'createMm',
  syscall: undefined,
  summary: 'create an mm (an empty pgd) in address-space slot asid',
  args: z.object({ asid, pendingWord: int(0).optional() }).strict(),
  run(ctx, a) {
    ctx.kernel.createMm(a.asid, ctx.pending(a.pendingWord));
    return { op: 'createMm', pages: 0 };
  },
});
