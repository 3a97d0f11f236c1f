import { defineCommand } from './define.js';

/**
 * mmap a new vma [start, start + pages), then fault its pages in (unless
 * fault is false). With `file`, a MAP_SHARED mapping of that file (a machine
 * file slot) from file page `pgoff`: its pages come from the file's page
 * cache. Private file mappings (copy-on-write) are not modelled.
 */
export const mmap = defineCommand({
  op: 'mmap',
  syscall: 'mmap',
  summary: 'map a vma (anonymous, or with file a shared mapping of that file from page pgoff) and (unless fault: false) fault its pages in',
  args: ({ z, asid, int, pages, vpn }) =>
    z
      .object({
        asid,
        start: vpn,
        pages,
        exec: z.boolean().optional(),
        write: z.boolean().optional(),
        huge: z.boolean().optional(),
        pfnmap: z.boolean().optional(),
        fault: z.boolean().optional(),
        file: int(0).optional(),
        pgoff: int(0).optional(),
        shared: z.literal(true, { error: 'shared: only MAP_SHARED file mappings are modelled (a private one is copy-on-write)' }).optional(),
      })
      .strict(),
  run(ctx, a) {
    const mm = ctx.kernel.mm(a.asid);
    if (a.file === undefined && (a.pgoff !== undefined || a.shared !== undefined)) throw new Error('mmap: pgoff and shared need a file');
    ctx.kernel.mmap(mm, a.start, a.pages, { exec: a.exec, write: a.write, huge: a.huge, pfnmap: a.pfnmap, file: a.file, pgoff: a.pgoff });
    const n = a.fault === false ? 0 : ctx.kernel.faultIn(mm, a.start, a.start + a.pages);
    return { op: 'mmap', pages: n };
  },
});
