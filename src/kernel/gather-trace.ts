/**
 * What a gather did, in order: every flush it issued, every frame it freed
 * (and how long the free was delayed), every synchronising IPI. Tests assert
 * on the sequence; cost reports sum the stats.
 */

/** How a flush is counted: one page, a longer range, the whole mm (ASID), everything. */
export type FlushClass = 'page' | 'range' | 'mm' | 'all';

/** What was freed: a data page or a page-table page of a level. */
export type FreedKind = 'data' | 'pte-table' | 'pmd-table';

export interface FlushEvent {
  t: 'flush';
  /** Gather operation count when it happened. */
  seq: number;
  cls: FlushClass;
  /** Machine FlushKind code (RANGE, ASID, ALL). */
  kind: number;
  asid: number;
  /** vpn range [start, end) for range flushes; 0, 0 otherwise. */
  start: number;
  end: number;
  /** Which bitmask (DTLB, ITLB, WALK). */
  which: number;
  /** The kernel function that issued it, e.g. 'tlb_end_vma'. */
  by: string;
}

export interface FreeEvent {
  t: 'free';
  seq: number;
  frame: number;
  what: FreedKind;
  /** False when freed at the call that handed it to the gather. */
  delayed: boolean;
  /** Gather operations between queueing and freeing (0 when immediate). */
  delay: number;
  by: string;
}

/** A table put on the CPU's page-table quicklist (pte_free → quicklist_free_page): not free, not reusable by others. */
export interface ParkEvent {
  t: 'park';
  seq: number;
  frame: number;
  what: FreedKind;
  by: string;
}

export interface SyncEvent {
  t: 'sync';
  seq: number;
  /** CPUs the synchronising IPI went to (before removing the sender). */
  mask: number;
  by: string;
}

export type TraceEvent = FlushEvent | FreeEvent | ParkEvent | SyncEvent;

export interface GatherStats {
  flushes: Record<FlushClass, number> & { itlb: number; walk: number; total: number };
  syncIpis: number;
  frees: {
    data: number;
    tables: number;
    immediate: number;
    delayed: number;
    /** Sum and maximum of the delays, in gather operations. */
    delaySum: number;
    delayMax: number;
    /** Tables parked on the quicklist (freed to the allocator later, by a trim, and counted then). */
    parked: number;
  };
  /** Gather operations performed (start_vma, remove_tlb_entry, remove_page, p??_free_tlb, end_vma, flush_mmu, finish). */
  ops: number;
}

export function emptyStats(): GatherStats {
  return {
    flushes: { page: 0, range: 0, mm: 0, all: 0, itlb: 0, walk: 0, total: 0 },
    syncIpis: 0,
    frees: { data: 0, tables: 0, immediate: 0, delayed: 0, delaySum: 0, delayMax: 0, parked: 0 },
    ops: 0,
  };
}

/** Add `b` into `a` (for a syscall made of several gathers). */
export function addStats(a: GatherStats, b: GatherStats): GatherStats {
  for (const k of Object.keys(a.flushes) as (keyof GatherStats['flushes'])[]) a.flushes[k] += b.flushes[k];
  a.syncIpis += b.syncIpis;
  a.frees.data += b.frees.data;
  a.frees.tables += b.frees.tables;
  a.frees.immediate += b.frees.immediate;
  a.frees.delayed += b.frees.delayed;
  a.frees.delaySum += b.frees.delaySum;
  a.frees.delayMax = Math.max(a.frees.delayMax, b.frees.delayMax);
  a.frees.parked += b.frees.parked;
  a.ops += b.ops;
  return a;
}

/** A one-line rendering of an event, for test failure messages and logs. */
export function formatEvent(e: TraceEvent): string {
  if (e.t === 'flush') {
    const w = `${e.which & 1 ? 'D' : ''}${e.which & 2 ? 'I' : ''}${e.which & 4 ? 'W' : ''}`;
    const r = e.cls === 'page' || e.cls === 'range' ? ` [${e.start},${e.end})` : '';
    return `#${e.seq} flush ${e.cls}${r} ${w} by ${e.by}`;
  }
  if (e.t === 'park') return `#${e.seq} park ${e.what} ${e.frame} on the quicklist by ${e.by}`;
  if (e.t === 'free') return `#${e.seq} free ${e.what} ${e.frame}${e.delayed ? ` after ${e.delay}` : ' now'} by ${e.by}`;
  return `#${e.seq} sync-ipi mask ${e.mask.toString(2)} by ${e.by}`;
}
