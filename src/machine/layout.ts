import type { MachineConfig } from './config.js';
import { TAG_VPN_BITS, TAG_VPN_MASK, WC_LEVEL_SHIFT } from './constants.js';

/**
 * The one place that knows where things live in the shared buffer. Every other
 * module asks a Layout for an index; nobody else computes offsets.
 *
 * The buffer is one Int32 area followed by one Float64 area (per-CPU counters
 * that only their own CPU writes). Regions, in order:
 *   header | frame metadata | frame contents | table-entry shadows |
 *   free ring | address spaces | files | per-CPU state | mailboxes | TLBs |
 *   walk caches | drop shadows | violation log || counters (Float64)
 */

/** Global header words. */
export const H = {
  MAGIC: 0,
  /** Non-zero: every CPU leaves its run loop at the next quiescence point. */
  STOP: 1,
  ITERATION: 2,
  SEED_LO: 3,
  SEED_HI: 4,
  /** Start barrier: arrivals and generation. */
  BARRIER_COUNT: 5,
  BARRIER_GEN: 6,
  /** Allocator: futex-style lock (0 free, 1 held, 2 held with waiters). */
  ALLOC_LOCK: 7,
  ALLOC_HEAD: 8,
  ALLOC_TAIL: 9,
  ALLOC_RNG: 10,
  /** Violation log: records claimed (may exceed capacity) and overflow count. */
  VLOG_COUNT: 11,
  VLOG_OVERFLOW: 12,
  /** Set when a thread failed: the others stop waiting and leave. */
  ABORT: 14,
  /** Frames handed out since reset (monotonic). */
  ALLOC_COUNT: 15,
  FREE_COUNT: 16,
  /**
   * Kernel sequence: a counter the kernel model bumps at every syscall entry
   * and every new mapping, so "this mapping existed when that call began"
   * can be told from "it was made during the call" (kernel/stale.ts).
   */
  KSEQ: 17,
  /** Kernel CPUs that have finished their racing script in this iteration. */
  KERNEL_DONE: 18,
  /** Words free for the harness and tests to signal between threads. */
  SCRATCH: 20,
  SCRATCH_WORDS: 12,
  /** Host-core gate of stress runs (cores.ts): cores armed (0: no gate), free tokens, threads queued, its futex lock, next ticket. */
  CORE_TOKENS: 32,
  CORE_FREE: 33,
  CORE_QUEUED: 34,
  CORE_LOCK: 35,
  CORE_TICKET: 36,
  /** Threads queued as finished waits (cores.ts resume): a running CPU hands over at its next quantum. */
  CORE_URGENT: 37,
  /**
   * Bumped (an SC read-modify-write) by every broadcast initiator after it
   * has dropped the other CPUs' entries and before it looks at their EPOCH
   * words; read (SC) by every CPU each time it publishes its EPOCH. That
   * read is what orders the CPU's later plain loads of its own TLB tags
   * after the drops (cpu.ts hit, publishEpoch).
   */
  BROADCAST_SEQ: 38,
  WORDS: 48,
} as const;
export const MAGIC = 0x53_4d_50_31; // "SMP1"

/** Per-frame metadata words. */
export const F = {
  KIND: 0,
  /** Incremented at every allocation. */
  GEN: 1,
  /** Address-space id of the owner (-1: kernel / none). */
  OWNER: 2,
  /** Who freed it last: the freeing CPU's kernel op code, its argument, and the CPU. */
  FREE_OP: 3,
  FREE_ARG: 4,
  FREE_CPU: 5,
  /** Owner before the last free. */
  PREV_OWNER: 6,
  /**
   * References (page->_refcount): 1 from the allocation (the mapping or the
   * page table that holds it), plus one per gup pin. The frame goes back to the
   * free list when the last reference is dropped (allocator.put), never before.
   */
  REFS: 7,
  /** The kernel sequence (H.KSEQ) when the frame was last mapped by a fault. */
  MAP_SEQ: 8,
  /** Split page-table lock of a PTE table (ptlock): 0 free, else holder CPU + 1 (machine/locks.ts). */
  PTL: 9,
  /**
   * A data frame's mappings by page tables (page->_mapcount + 1): raised when
   * a fault maps it, dropped when a zap clears a PTE to it (page_remove_rmap);
   * a move leaves it. truncate asks it (page_mapped) of a page it holds locked.
   */
  MAPCOUNT: 10,
  /** PG_locked of a data frame (lock_page; a sleeping lock, machine/locks.ts): 0 free, else holder CPU + 1. */
  PAGE_LOCK: 11,
  WORDS: 12,
} as const;

/** Address-space (mm context) slot words. */
export const A = {
  LIVE: 0,
  PGD_FRAME: 1,
  PGD_GEN: 2,
  /** CPUs that have run this address space (bit per CPU). */
  CPUMASK: 3,
  /** mm->tlb_flush_pending: gathers of this mm between tlb_gather_mmu and tlb_finish_mmu. */
  FLUSH_PENDING: 4,
  /**
   * mmap_lock, a reader-writer lock (machine/locks.ts): STATE is the number
   * of readers, or -1 while a writer holds it; READERS a bit per reading CPU
   * and WRITER the writing CPU + 1, for deadlock reports.
   */
  MMAP_LOCK: 5,
  MMAP_READERS: 6,
  MMAP_WRITER: 7,
  /** mm->page_table_lock (a spinlock: 0 free, else holder CPU + 1): populating upper tables. */
  PT_LOCK: 8,
  /** The VMA list (kernel/mm.ts): count, then MAX_VMAS records of VMA_WORDS (start, end, flags, file + 1, pgoff). */
  VMA_COUNT: 9,
  VMAS: 16,
  VMA_WORDS: 5,
  MAX_VMAS: 32,
  WORDS: 16 + 5 * 32,
} as const;

/**
 * File slot words (an inode and its address_space; kernel/file-cache.ts):
 * i_size, the i_mmap of the vmas mapping it, and the page cache. The page
 * cache's slots (cfg.filePages of them, Layout.filePage) follow the i_mmap
 * records.
 */
export const FI = {
  /** i_size, in pages (cfg.filePages after a reset). */
  SIZE: 0,
  /**
   * i_mmap_rwsem, a reader-writer lock of the same shape as A.MMAP_LOCK
   * (STATE, READERS, WRITER at the same distances: machine/locks.ts reads
   * both through one set of functions).
   */
  I_MMAP_LOCK: 1,
  I_MMAP_READERS: 2,
  I_MMAP_WRITER: 3,
  /** The page cache's own lock (xa_lock of i_pages; tree_lock before 4.17): 0 free, else holder CPU + 1. */
  PAGES_LOCK: 4,
  /** nrpages: page-cache slots in use. */
  NR_PAGES: 5,
  /** The i_mmap: count, then MAX_MAPS records of MAP_WORDS (asid, start, end, pgoff, vma flags), in traversal order. */
  MAP_COUNT: 6,
  MAPS: 8,
  MAP_WORDS: 5,
  MAX_MAPS: 32,
  /** Header and i_mmap; the page-cache slots follow (frame + 1 each, 0: none). */
  HEADER: 8 + 5 * 32,
} as const;
if (FI.I_MMAP_READERS - FI.I_MMAP_LOCK !== A.MMAP_READERS - A.MMAP_LOCK || FI.I_MMAP_WRITER - FI.I_MMAP_LOCK !== A.MMAP_WRITER - A.MMAP_LOCK) {
  throw new Error('layout.ts: i_mmap_rwsem and mmap_lock must have the same shape');
}

/**
 * Per-CPU state words, in three 64-byte lines so that the words a CPU writes
 * all the time (EPOCH), the words others write to signal it (DOORBELL,
 * EPOCH_WATCHERS) and the statistics do not share a cache line: on the hot paths a
 * shared line bounces between cores at every write.
 */
export const C = {
  // Line 0: written by the CPU itself, read by others.
  /** Address-space slot currently loaded, -1 for none. */
  CUR_MM: 0,
  IRQ_ENABLED: 1,
  /** Odd while executing instructions (changes at every quiescence point), even when quiescent. */
  EPOCH: 2,
  /** CpuOp of the step in progress. */
  CUR_OP: 4,
  /** Kernel operation in flight on this CPU (code defined by the kernel model) and its argument. */
  KERNEL_OP: 5,
  KERNEL_ARG: 6,
  /** CPU this one waits on for an IPI acknowledgement, +1 (0: none). */
  WAITING_ON: 7,
  /** 1 while this CPU runs an iteration. */
  RUNNING: 8,
  /**
   * What this CPU waits for, for deadlock detection (machine/locks.ts): a
   * lock's word + 1, or -(CPU + 1) while it waits for that CPU to reach a
   * kernel point; 0 when not waiting. WAIT_SERIAL counts its waits.
   */
  WAIT_FOR: 9,
  WAIT_SERIAL: 10,
  /** 1 once this CPU's kernel script (a scenario iteration's) has finished. */
  SCRIPT_DONE: 11,
  /** For a point wait: the step and the syscall bits awaited (a waiter whose point was reached waits for nothing). */
  WAIT_STEP: 12,
  WAIT_MASK: 13,
  /** Lazy TLB state (machine/lazy.ts Lazy.*): written by the CPU and by initiators that skip it. */
  LAZY: 14,
  // Line 1: read by others at every wake-up, written rarely.
  /** 1 while blocked in Atomics.wait on DOORBELL (written by the CPU when it sleeps). */
  SLEEPING: 17,
  /** Bumped by anyone who makes something this CPU sleeps on true. */
  DOORBELL: 16,
  /** Initiators sleeping until EPOCH changes (the CPU notifies EPOCH when non-zero). */
  EPOCH_WATCHERS: 18,
  /** Controlled runs: the EPOCH value a waiting initiator needs to change. */
  EPOCH_WATCHED: 19,
  /** Host-core gate (cores.ts): CoreState, queue ticket, and 1 if queued as a finished wait. */
  CORE_STATE: 20,
  CORE_TICKET: 21,
  CORE_URGENT: 22,
  /**
   * 1 while the CPU is queued for a core from its run loop's quantum
   * boundary (an instruction boundary, interrupts enabled, quiescent): an
   * IPI sender may then take the IPI on its behalf (cores.ts borrow).
   */
  CORE_INTERRUPTIBLE: 23,
  // Line 2: statistics. Invalidations applied to this CPU's caches, by anyone.
  INVAL_DTLB: 32,
  INVAL_ITLB: 33,
  INVAL_WALK: 34,
  WORDS: 48,
} as const;

/**
 * IPI inbox words: one inbox per target CPU, in one 64-byte line, so that a
 * request, its "posted" signal and its acknowledgement travel in a single
 * cache line (a shootdown IPI then costs about what a raw ping-pong does).
 * Senders to the same target take turns: see ipi.ts.
 */
export const M = {
  /** IpiState: FREE, CLAIMED (a sender fills it), POSTED, DONE (acknowledged). */
  STATE: 0,
  SENDER: 1,
  KIND: 2,
  ASID: 3,
  START: 4,
  END: 5,
  WHICH: 6,
  /** The sender's IPI number, for reports. */
  SERIAL: 7,
  /** Senders sleeping until the inbox is FREE. */
  WAITERS: 8,
  WORDS: 16,
} as const;

/** Step-gate words (controlled runs; see gate.ts). Per-thread words follow the header. */
export const G = {
  /** Non-zero while the gate controls the threads. */
  ACTIVE: 0,
  /** The thread allowed to execute its next step. */
  TURN: 1,
  /** Steps executed under the gate so far. */
  STEP: 2,
  /** Number of priority change points in use. */
  CHANGES: 3,
  HEADER: 16,
  MAX_CHANGES: 16,
  /** Per-thread words: priority, blocked flag, finished flag, entered flag. */
  PRIO: 0,
  BLOCKED: 1,
  DONE: 2,
  ENTERED: 3,
  THREAD_WORDS: 4,
} as const;

/** Violation record words. */
export const V = {
  /** Set last, once every other word of the record is written. */
  VALID: 0,
  /** The record's fields follow, in the order of checker.ts RECORD. */
  FIRST: 1,
  WORDS: 28,
} as const;

/**
 * Per-CPU counters (Float64, written only by their own CPU). An object literal
 * of constants, so that the JIT folds `K.hits` into an offset on the hot path.
 * stepNow is the CPU's step count as last published (for reports and the
 * watchdog); irqOffSince the step at which interrupts were last disabled.
 */
export const K = {
  steps: 0,
  accesses: 1,
  loads: 2,
  stores: 3,
  fetches: 4,
  dtlbHits: 5,
  dtlbMisses: 6,
  itlbHits: 7,
  itlbMisses: 8,
  walks: 9,
  speculativeWalks: 10,
  walkCacheHits: 11,
  faults: 12,
  fills: 13,
  ipisReceived: 14,
  ipisSent: 15,
  broadcastsSent: 16,
  syncIpisSent: 17,
  localFlushes: 18,
  gupWalks: 19,
  irqOffSteps: 20,
  switches: 21,
  violations: 22,
  stepNow: 23,
  irqOffSince: 24,
  /**
   * TLB misses that refilled (walked and found a translation for) an entry
   * an invalidation had dropped from this CPU: what a flush cost afterwards.
   * Counted on the miss path only, from the drop shadow (see DROP_SLOTS).
   */
  refillsAfterDrop: 25,
  /** Of those, I-TLB refills. */
  itlbRefillsAfterDrop: 26,
  /** Pages gup_fast pinned (and released at the end of its walk). */
  gupPins: 27,
  /**
   * gup_fast walks that backed off: the speculative reference failed (the
   * page's count had reached zero) or the pmd/PTE re-read after it differed.
   * The kernel then falls back to the slow path; not a violation.
   */
  gupBackoffs: 28,
  /** Times this CPU entered lazy TLB mode (an idle period with the mm still loaded). */
  lazyEntries: 29,
  /** Lazy periods that ended with a full flush because a flush had skipped the CPU (tlb_gen catch-up). */
  lazyCatchUps: 30,
  /** Lazy periods cut short by a flush IPI: the CPU left the mm (switch to init_mm). */
  lazyLeaves: 31,
} as const;
export type CounterName = keyof typeof K;
export const COUNTER_NAMES = Object.keys(K) as CounterName[];
const COUNTER_WORDS = 32;

/** Words of one TLB entry: tag, pte value, frame generation at fill. */
export const TLB_ENTRY_WORDS = 3;
/** Words of one walk-cache entry: tag, table frame, its generation at fill. */
export const WC_ENTRY_WORDS = 3;

/**
 * The TLB tag of vpn in address space asid: (asid + 1) << TAG_VPN_BITS | vpn
 * (constants.ts: zero is an invalid entry). Every TLB tag is made here.
 */
export function tlbTag(asid: number, vpn: number): number {
  return ((asid + 1) << TAG_VPN_BITS) | vpn;
}

/**
 * The walk-cache tag of a level-`level` entry for `prefix` (the vpn shifted
 * right by the span of one entry of that level) in address space asid
 * (constants.ts). Every walk-cache tag is made here.
 */
export function wcTag(asid: number, level: number, prefix: number): number {
  return ((asid + 1) << TAG_VPN_BITS) | (level << WC_LEVEL_SHIFT) | prefix;
}

/**
 * Drop shadow: per CPU, a direct-mapped table of the TLB tags invalidations
 * dropped from it (DROP_SLOTS for the D-TLB, then as many for the I-TLB). A
 * later miss that finds its tag there is a refill the drop caused
 * (K.refillsAfterDrop); the slot is cleared then, so a drop is counted once.
 * Two drops mapping to one slot keep the later: a statistic, not a checker.
 */
export const DROP_SLOTS = 128;

/** The slot of TLB tag `tag` in a drop shadow. */
export function dropHash(tag: number): number {
  // Tags are tlbTag(asid, vpn): fold the ASID into the vpn's low bits.
  return ((tag & TAG_VPN_MASK) + (tag >>> TAG_VPN_BITS) * 37) & (DROP_SLOTS - 1);
}

/**
 * Kernel points reached, per CPU: one word per kernel step code (kernel/ops.ts
 * STEPS), a bit per system-call code that has reached that step in this
 * iteration. Sticky until the machine is reset, so a waiter cannot miss a
 * point another CPU passed quickly.
 */
export const POINT_WORDS = 32;

export class Layout {
  readonly cfg: MachineConfig;
  readonly W: number;
  /** log2(entries per table) */
  readonly shift: number;
  readonly frameMeta: number;
  readonly contents: number;
  readonly shadow: number;
  readonly freeRing: number;
  readonly spaces: number;
  /** The file slots (FI), each fileWords long. */
  readonly files: number;
  readonly fileWords: number;
  readonly cpuState: number;
  readonly mailbox: number;
  readonly tlbs: number;
  readonly dtlbWords: number;
  readonly itlbWords: number;
  readonly wcWords: number;
  readonly perCpuTlbWords: number;
  readonly drops: number;
  readonly vlog: number;
  readonly gate: number;
  readonly points: number;
  readonly int32Words: number;
  readonly counterBytes: number;
  readonly byteLength: number;

  constructor(cfg: MachineConfig) {
    this.cfg = cfg;
    this.W = cfg.wordsPerPage;
    this.shift = Math.log2(cfg.wordsPerPage);
    let at: number = H.WORDS;
    const take = (n: number): number => {
      const start = at;
      at += n;
      return start;
    };
    this.frameMeta = take(cfg.frames * F.WORDS);
    this.contents = take(cfg.frames * this.W);
    this.shadow = take(cfg.frames * this.W);
    this.freeRing = take(cfg.frames);
    this.spaces = take(cfg.addressSpaces * A.WORDS);
    this.fileWords = FI.HEADER + cfg.filePages;
    this.files = take(cfg.files * this.fileWords);
    at = (at + 15) & ~15; // 64-byte lines from here
    this.cpuState = take(cfg.cpus * C.WORDS);
    this.mailbox = take(cfg.cpus * M.WORDS);
    // TLB sets: entries, then one word per set with the next victim (round-robin)
    // and the fill sequence (tlb.ts FILL_SEQ); the walk cache likewise, one word after its entries.
    this.dtlbWords = cfg.dtlb.sets * (cfg.dtlb.ways * TLB_ENTRY_WORDS + 1);
    this.itlbWords = cfg.itlb.sets * (cfg.itlb.ways * TLB_ENTRY_WORDS + 1);
    this.wcWords = cfg.walkCache * WC_ENTRY_WORDS + 1;
    this.perCpuTlbWords = this.dtlbWords + this.itlbWords + this.wcWords;
    this.tlbs = take(cfg.cpus * this.perCpuTlbWords);
    this.drops = take(cfg.cpus * 2 * DROP_SLOTS);
    this.vlog = take(cfg.violationLogSize * V.WORDS);
    this.gate = take(G.HEADER + G.MAX_CHANGES + cfg.cpus * G.THREAD_WORDS);
    this.points = take(cfg.cpus * POINT_WORDS);
    // The Float64 area starts on a cache line.
    at = (at + 15) & ~15; // 64-byte aligned, so no CPU shares a counter line
    this.int32Words = at;
    this.counterBytes = cfg.cpus * COUNTER_WORDS * 8;
    this.byteLength = this.int32Words * 4 + this.counterBytes;
  }

  frame(f: number, field: number): number {
    return this.frameMeta + f * F.WORDS + field;
  }
  word(f: number, i: number): number {
    return this.contents + f * this.W + i;
  }
  shadowWord(f: number, i: number): number {
    return this.shadow + f * this.W + i;
  }
  space(asid: number, field: number): number {
    return this.spaces + asid * A.WORDS + field;
  }
  /** Word `field` (FI) of file `file`. */
  file(file: number, field: number): number {
    return this.files + file * this.fileWords + field;
  }
  /** Word `field` of i_mmap record `i` of file `file`. */
  fileMap(file: number, i: number, field: number): number {
    return this.file(file, FI.MAPS + i * FI.MAP_WORDS + field);
  }
  /** The page-cache slot of page `index` of file `file` (frame + 1, 0: none). */
  filePage(file: number, index: number): number {
    return this.file(file, FI.HEADER + index);
  }
  cpu(c: number, field: number): number {
    return this.cpuState + c * C.WORDS + field;
  }
  /**
   * The host-core gate's words (cores.ts), in ascending order: the header's
   * and every CPU's. A reset between the iterations of a batch leaves them
   * alone (Machine.reset keepCores).
   */
  coreGateWords(): number[] {
    const out: number[] = [];
    for (let w = H.CORE_TOKENS; w <= H.CORE_URGENT; w++) out.push(w);
    for (let c = 0; c < this.cfg.cpus; c++) for (const f of [C.CORE_STATE, C.CORE_TICKET, C.CORE_URGENT]) out.push(this.cpu(c, f));
    return out;
  }
  /** A word of `target`'s IPI inbox. */
  inbox(target: number, field: number): number {
    return this.mailbox + target * M.WORDS + field;
  }
  dtlbBase(c: number): number {
    return this.tlbs + c * this.perCpuTlbWords;
  }
  itlbBase(c: number): number {
    return this.dtlbBase(c) + this.dtlbWords;
  }
  wcBase(c: number): number {
    return this.itlbBase(c) + this.itlbWords;
  }
  /** The drop-shadow slot of TLB tag `tag` (I-TLB when `itlb`) on CPU `c`. */
  dropSlot(c: number, itlb: boolean, tag: number): number {
    return this.dropShadow(c, itlb) + dropHash(tag);
  }
  /** The first word of CPU `c`'s drop shadow for its D-TLB (I-TLB when `itlb`): slot dropHash(tag) of it holds tag. */
  dropShadow(c: number, itlb: boolean): number {
    return this.drops + (c * 2 + (itlb ? 1 : 0)) * DROP_SLOTS;
  }
  gateWord(field: number): number {
    return this.gate + field;
  }
  /** Step number of priority change point i. */
  gateChange(i: number): number {
    return this.gate + G.HEADER + i;
  }
  gateThread(t: number, field: number): number {
    return this.gate + G.HEADER + G.MAX_CHANGES + t * G.THREAD_WORDS + field;
  }
  /** The kernel-point word of `step` on CPU `c` (a bit per syscall code). */
  point(c: number, step: number): number {
    return this.points + c * POINT_WORDS + step;
  }
  /** Word `field` of VMA record `i` of address space `asid`. */
  vma(asid: number, i: number, field: number): number {
    return this.space(asid, A.VMAS + i * A.VMA_WORDS + field);
  }
  violation(i: number, field: number): number {
    return this.vlog + i * V.WORDS + field;
  }
  /** Index into the Float64 counter view. */
  counter(c: number, k: number): number {
    return c * COUNTER_WORDS + k;
  }

  /** Table indexes of a vpn: [pgd index, pmd index, pte index]. */
  indexes(vpn: number): [number, number, number] {
    const m = this.W - 1;
    return [(vpn >>> (2 * this.shift)) & m, (vpn >>> this.shift) & m, vpn & m];
  }
  /** Number of virtual pages the three levels cover. */
  get vpnLimit(): number {
    return 1 << (3 * this.shift);
  }
}

/** Typed views of one machine's shared buffer; cheap to create in every thread. */
export class Views {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  constructor(
    readonly layout: Layout,
    readonly sab: SharedArrayBuffer,
  ) {
    if (sab.byteLength !== layout.byteLength) {
      throw new Error(`shared buffer is ${sab.byteLength} bytes, layout wants ${layout.byteLength}`);
    }
    this.i32 = new Int32Array(sab, 0, layout.int32Words);
    this.f64 = new Float64Array(sab, layout.int32Words * 4, layout.counterBytes / 8);
  }
}
