import { defineCommand } from './define.js';

/** truncate(file, pages): i_size_write, unmap_mapping_range over the file's i_mmap, truncate_inode_pages (kernel/truncate.ts). */
export const truncate = defineCommand({
  op: 'truncate',
  syscall: 'truncate',
  summary: "truncate a file to `pages` pages: unmap every mapping of the pages past it (each mm's own gather and flush), then drop them from the page cache",
  args: ({ z, int }) => z.object({ file: int(0), pages: int(0) }).strict(),
  run(ctx, a) {
    return ctx.removal('truncate', -1, ctx.kernel.truncate(a.file, a.pages));
  },
});
