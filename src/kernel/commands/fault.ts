import { defineCommand } from './define.js';

/** Fault in every unmapped page of [start, end) that lies in a vma. */
export const fault = defineCommand({
  op: 'fault',
  syscall: 'fault',
  summary: 'fault in the unmapped pages of [start, end) that lie in a vma',
  args: ({ z, asid, vpn }) => z.object({ asid, start: vpn, end: vpn }).strict(),
  run(ctx, a) {
    return { op: 'fault', pages: ctx.kernel.faultIn(ctx.kernel.mm(a.asid), a.start, a.end) };
  },
});
