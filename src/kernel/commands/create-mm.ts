import { defineCommand } from './define.js';

/** A new mm with an empty pgd in machine slot `asid` (every CPU's kernel sees it: its vmas, locks and tlb_flush_pending are shared). */
export const createMm = defineCommand({
  op: 'createMm',
  syscall: undefined,
  summary: 'create an mm (an empty pgd) in address-space slot asid',
  args: ({ z, asid }) => z.object({ asid }).strict(),
  run(ctx, a) {
    ctx.kernel.createMm(a.asid);
    return { op: 'createMm', pages: 0 };
  },
});
