import { defineScenario } from 'smpsim';

/**
 * docs/domain.md 5.7 (CVE-2018-18281): mremap moves a PTE and drops the page-table
 * locks before flushing the old address; truncate frees the page meanwhile.
 *
 * A process maps 16 pages of file 0 shared at OLD = [56, 72). CPU 0
 * mremaps them to NEW = [256, 272) (MREMAP_MAYMOVE | MREMAP_FIXED). CPUs
 * 2..n-1 are threads of the process still using OLD: they only load its
 * first 8 pages and store to the last 8, so the first extent move_ptes
 * moves ([56, 64), one PTE table) has only clean PTEs and the second
 * ([64, 72), the next table) dirty ones. CPU 1, another process, truncates
 * the file to 0 as soon as CPU 0 has moved its first PTE. (Clean first:
 * truncate may reach the second table before CPU 0 does and zap its PTEs
 * itself, with a flush; the first is always moved, and its truncate's zap
 * waits for its lock.)
 *
 *   CPU 0 (mremap)                 CPU 1 (truncate)          CPU 2 (user)
 *   copy_vma: NEW in i_mmap,
 *     after OLD
 *   move_ptes, both PTLs held:     i_size = 0
 *     clear OLD's PTE, set NEW's   i_mmap: zap OLD's range:   TLB: OLD → P
 *   drop the PTLs                    waits for OLD's PTL,
 *   [flush OLD: 3.2-4.18]            then finds nothing:
 *                                    no flush of OLD
 *                                  zap NEW's range: clear,
 *                                    flush NEW, drop the
 *                                    mapping's reference
 *                                  truncate_inode_pages:
 *                                    drop the cache's
 *                                    reference: P is free     load OLD → P: freed
 *   [flush OLD: too late]
 *
 * Nothing but the TLB entry keeps P reachable through OLD: mremap holds no
 * reference to the pages it moves, and truncate flushed only where it found
 * the page. The order of "flush OLD" and "drop the PTLs" is the whole bug:
 * a flush made with the PTE locks held (eb66ae030829, 4.19, "mremap:
 * properly flush TLB before releasing the page") happens before truncate
 * can zap either range, so P is freed only after OLD is invalidated
 * everywhere. 4.9-4.18 (5d1904204c99) flushed under the old table's lock
 * only an extent that moved a dirty PTE, so this scenario's clean half is
 * still caught there; 3.2-4.8 flushed after the last extent, and 2.6.x
 * flushed each PTE as it moved it (ptep_clear_flush), with the file's
 * i_mmap lock held besides.
 *
 * The checker: a load through OLD's TLB entry finds P free
 * (stale-data-access, freed by truncate/truncate_inode_pages), and
 * truncate's own return finds OLD still translated
 * (stale-translation-after-return, naming CPU 1's truncate).
 *
 * CPU 0 stalls at move_page_tables_flush (every PTE moved, the locks
 * dropped, before the flush 3.2-4.18 make there) until CPU 1's truncate has
 * returned, and a little longer, as a preempted CPU would: the race happens
 * in every iteration, in stress and pct mode. The hold is the same on every
 * policy; the fixed one has flushed before it, under the locks.
 */
const OLD = { start: 56, pages: 16 };
const NEW = 256;
const CLEAN = { start: OLD.start, pages: 8, write: false };
const DIRTY = { start: OLD.start + 8, pages: 8, write: true };

export default defineScenario({
  name: 'mremap-vs-truncate',
  title: 'mremap drops the page-table locks before flushing the old address; truncate frees the page in between (CVE-2018-18281)',
  description:
    'CPU 0 mremaps a shared file mapping that CPUs 2..n-1 still read and write at its old address; CPU 1 truncates the file meanwhile, zapping the new address, flushing it and freeing the page from the page cache. Before 4.19 (eb66ae030829) the old address is flushed only after the PTE locks are dropped (4.9-4.18: unless the extent held a dirty PTE): the checker sees a load through the old translation reach the freed page, and truncate returning with it still cached. Each expectation rests on the mremap and truncate rows of its policy in docs/fidelity.md and on the section of its hardware flavour.',
  domain: '5.7',
  cpus: 3,
  iterations: 100,
  machine: { frames: 512 },
  setup: [
    { op: 'createMm', asid: 0 },
    { op: 'switchMm', asid: 0 },
    { op: 'mmap', asid: 0, start: OLD.start, pages: OLD.pages, file: 0, pgoff: 0, shared: true, write: true },
  ],
  script: [
    { op: 'waitSteps', steps: 600 },
    // Every PTE moved, the PTE locks dropped: stay until the truncate has returned, then a while longer.
    { op: 'holdPoint', point: 'mremap/move_page_tables_flush', until: { cpu: 1, point: 'truncate/return' } },
    { op: 'holdPoint', point: 'mremap/move_page_tables_flush', steps: 2000 },
    { op: 'mremap', asid: 0, start: OLD.start, pages: OLD.pages, newStart: NEW },
  ],
  kernelCpus: [
    {
      cpu: 1,
      script: [
        // Once CPU 0 has moved a PTE (it holds the PTE locks there): the truncate then waits for them.
        { op: 'waitPoint', cpu: 0, point: 'mremap/move_page_tables' },
        { op: 'truncate', file: 0, pages: 0 },
      ],
    },
  ],
  workload: () => ({ spaces: [0], ranges: [CLEAN, DIRTY], mix: { load: 2, store: 1 } }),
  combinations: [
    // `mremap:linux-6` with mremapFlush=after-unlock (3.2-4.8) and `truncate:linux-6`: the old range is flushed after the
    // PTE locks are dropped; truncate zaps and flushes the new range and frees the page first. On `hw:x86` (IPI) and `hw:arm64` (broadcast) alike.
    { arch: 'linux-6', archOptions: { mremapFlush: 'after-unlock' }, hw: 'x86', expect: 'caught' },
    { arch: 'linux-6', archOptions: { mremapFlush: 'after-unlock' }, hw: 'arm64', expect: 'caught' },
    // `mremap:linux-6` with mremapFlush=dirty-under-ptl (4.9-4.18, 5d1904204c99): the dirty extent is flushed under the old
    // PTE lock, the clean one after the unlock: the loads of the clean half are caught.
    { arch: 'linux-6', archOptions: { mremapFlush: 'dirty-under-ptl' }, hw: 'x86', expect: 'caught' },
    { arch: 'linux-6', archOptions: { mremapFlush: 'dirty-under-ptl' }, hw: 'arm64', expect: 'caught' },
    // `mremap:linux-6` (eb66ae030829): every extent flushed with both PTE locks held, before truncate can zap either range;
    // `hw:armv7-mp` too.
    { arch: 'linux-6', hw: 'x86', expect: 'clean' },
    { arch: 'linux-6', hw: 'arm64', expect: 'clean' },
    { arch: 'linux-6', hw: 'armv7-mp', expect: 'clean' },
    // `mremap:arm-2.6.38` on `hw:armv7-mp`, `mremap:sh-2.6.38` on `hw:sh4`, `mremap:ia64-2.6.38` on `hw:ia64`: ptep_clear_flush
    // per PTE under both PTE locks and the file's i_mmap lock; `truncate:arm-2.6.38`, `truncate:sh-2.6.38`, `truncate:ia64-2.6.38`
    // find the page at one address or the other. (arm-2.6.37 is no row here: the munmap of the old range frees its PTE tables
    // before any flush, the race of 5.1 and 5.2, which a walk on another CPU can meet; the mremap itself is as clean.)
    { arch: 'arm-2.6.38', hw: 'armv7-mp', expect: 'clean' },
    { arch: 'sh-2.6.38', hw: 'sh4', expect: 'clean' },
    { arch: 'ia64-2.6.38', hw: 'ia64', expect: 'clean' },
  ],
});
