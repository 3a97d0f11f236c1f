import { FrameKind } from './constants.js';
import { F, H, type Layout } from './layout.js';
import { mutexLock, mutexUnlock, xorshift32 } from './sync.js';

/** Freeing a frame that is already free: a bug in whoever called free. */
export class DoubleFreeError extends Error {
  constructor(readonly frame: number) {
    super(`frame ${frame} freed twice`);
    this.name = 'DoubleFreeError';
  }
}

/**
 * The physical frame allocator, shared by every thread.
 *
 * Free frames sit in a ring [head, tail) guarded by a futex mutex. Frees push at
 * the tail. LIFO pops the tail (the most recently freed frame is handed out
 * first, as the kernel's hot per-CPU lists do: that is what lets a stale
 * translation meet a reused frame quickly), FIFO pops the head, random swaps a
 * seeded-random member to the tail first.
 *
 * Ordering: put() marks the frame FREE before it becomes allocatable, and
 * alloc() bumps the generation before the new owner can publish the frame, so
 * a checker that reads generation and kind after its access always sees a
 * frame's state at least as new as the access.
 *
 * Reference counts (page->_refcount). A frame is allocated with one reference
 * (its mapping, or the table entry that holds a page-table page). The kernel
 * frees by dropping that reference (put_page); a gup pin adds one. The frame
 * returns to the free list only when the count reaches zero, so a page pinned
 * before the kernel's put stays allocated until the pin is released, and a
 * speculative reference (tryGet, get_page_unless_zero) on a page whose count
 * already reached zero fails: the count is the one word both sides change
 * atomically, so exactly one of "the pin came first" and "the free came first"
 * holds.
 */
export class FrameAllocator {
  /** Called after every allocation and free with (frame, kind, freed) (recording, yield points). */
  onChange: ((frame: number, kind: number, freed: boolean) => void) | null = null;
  private readonly n: number;
  private readonly order: number;
  constructor(
    private readonly i32: Int32Array,
    private readonly L: Layout,
  ) {
    this.n = L.cfg.frames;
    this.order = L.cfg.allocOrder === 'lifo' ? 0 : L.cfg.allocOrder === 'fifo' ? 1 : 2;
  }

  /** Every frame free, generations zero. Only while no thread uses the machine. */
  reset(): void {
    const { i32, L, n } = this;
    i32.fill(0, L.frameMeta, L.frameMeta + n * F.WORDS);
    for (let f = 0; f < n; f++) {
      i32[L.frame(f, F.OWNER)] = -1;
      i32[L.frame(f, F.PREV_OWNER)] = -1;
      i32[L.frame(f, F.FREE_CPU)] = -1;
      // Lowest frame numbers come out first under LIFO: push in reverse.
      i32[L.freeRing + f] = n - 1 - f;
    }
    i32[H.ALLOC_HEAD] = 0;
    i32[H.ALLOC_TAIL] = n;
    i32[H.ALLOC_RNG] = L.cfg.allocSeed || 0x9e3779b9;
    i32[H.ALLOC_LOCK] = 0;
    i32[H.ALLOC_COUNT] = 0;
    i32[H.FREE_COUNT] = 0;
  }

  /**
   * Take a frame for `owner` (address-space id, -1 for none) as `kind`, zeroed.
   * Returns -1 when no frame is free.
   */
  alloc(kind: number, owner: number): number {
    const { i32, L, n } = this;
    mutexLock(i32, H.ALLOC_LOCK, L.cfg.spinLimit, H.ABORT);
    let f = -1;
    let head = i32[H.ALLOC_HEAD];
    let tail = i32[H.ALLOC_TAIL];
    if (tail > head) {
      if (this.order === 1) {
        f = i32[L.freeRing + (head % n)];
        head++;
        if (head >= n) {
          head -= n;
          tail -= n;
        }
        i32[H.ALLOC_HEAD] = head;
        i32[H.ALLOC_TAIL] = tail;
      } else {
        if (this.order === 2) {
          const r = xorshift32(i32[H.ALLOC_RNG] >>> 0);
          i32[H.ALLOC_RNG] = r | 0;
          const pick = L.freeRing + ((head + (r % (tail - head))) % n);
          const last = L.freeRing + ((tail - 1) % n);
          const t = i32[pick];
          i32[pick] = i32[last];
          i32[last] = t;
        }
        tail--;
        f = i32[L.freeRing + (tail % n)];
        i32[H.ALLOC_TAIL] = tail;
      }
    }
    mutexUnlock(i32, H.ALLOC_LOCK);
    if (f < 0) return -1;
    i32.fill(0, L.word(f, 0), L.word(f, L.W));
    i32.fill(0, L.shadowWord(f, 0), L.shadowWord(f, L.W));
    Atomics.store(i32, L.frame(f, F.REFS), 1);
    Atomics.store(i32, L.frame(f, F.MAPCOUNT), 0);
    Atomics.store(i32, L.frame(f, F.PAGE_LOCK), 0);
    Atomics.add(i32, L.frame(f, F.GEN), 1);
    Atomics.store(i32, L.frame(f, F.OWNER), owner);
    Atomics.store(i32, L.frame(f, F.KIND), kind);
    Atomics.add(i32, H.ALLOC_COUNT, 1);
    this.onChange?.(f, kind, false);
    return f;
  }

  /**
   * Drop a reference (put_page); the last one gives the frame back. `freeOp`
   * / `freeArg` name the kernel operation doing it and `cpu` the CPU, so that a
   * violation on the frame can say who freed it. Returns whether the frame was
   * freed. Dropping a reference the frame does not have is a double free.
   */
  put(f: number, cpu: number, freeOp: number, freeArg: number): boolean {
    const refsAt = this.L.frame(f, F.REFS);
    const old = Atomics.sub(this.i32, refsAt, 1);
    if (old > 1) return false;
    if (old < 1) {
      Atomics.add(this.i32, refsAt, 1);
      throw new DoubleFreeError(f);
    }
    this.release(f, cpu, freeOp, freeArg);
    return true;
  }

  /**
   * get_page_unless_zero / try_grab_folio_fast: take a reference unless the
   * count is already zero (the page is free, or being freed). Returns whether
   * the reference was taken; it may be on a frame reallocated since the caller
   * read its pointer, which the caller must then find out (the gup_fast recheck).
   */
  tryGet(f: number): boolean {
    return this.get(f) > 0;
  }

  /**
   * get_page: take a reference unconditionally, as code that knows the page
   * cannot be freed under it does. Returns the count before; 0 means the
   * caller's knowledge was wrong (the page was free), and the reference is not
   * taken, so the allocator stays consistent for the report.
   */
  get(f: number): number {
    const { i32 } = this;
    const at = this.L.frame(f, F.REFS);
    for (;;) {
      const r = Atomics.load(i32, at);
      if (r <= 0) return r;
      if (Atomics.compareExchange(i32, at, r, r + 1) === r) return r;
    }
  }

  private release(f: number, cpu: number, freeOp: number, freeArg: number): void {
    const { i32, L, n } = this;
    const kindAt = L.frame(f, F.KIND);
    const was = Atomics.exchange(i32, kindAt, FrameKind.FREE);
    if (was === FrameKind.FREE) throw new DoubleFreeError(f);
    Atomics.store(i32, L.frame(f, F.PREV_OWNER), Atomics.load(i32, L.frame(f, F.OWNER)));
    Atomics.store(i32, L.frame(f, F.FREE_OP), freeOp);
    Atomics.store(i32, L.frame(f, F.FREE_ARG), freeArg);
    Atomics.store(i32, L.frame(f, F.FREE_CPU), cpu);
    mutexLock(i32, H.ALLOC_LOCK, L.cfg.spinLimit, H.ABORT);
    const tail = i32[H.ALLOC_TAIL];
    i32[L.freeRing + (tail % n)] = f;
    i32[H.ALLOC_TAIL] = tail + 1;
    mutexUnlock(i32, H.ALLOC_LOCK);
    Atomics.add(i32, H.FREE_COUNT, 1);
    this.onChange?.(f, was, true);
  }

  /** Number of free frames right now. */
  freeFrames(): number {
    return Atomics.load(this.i32, H.ALLOC_TAIL) - Atomics.load(this.i32, H.ALLOC_HEAD);
  }

  /** The frames currently on the free list (for tests and self-checks; racy while threads run). */
  freeList(): number[] {
    const { i32, L, n } = this;
    const out: number[] = [];
    for (let x = i32[H.ALLOC_HEAD]; x < i32[H.ALLOC_TAIL]; x++) out.push(i32[L.freeRing + (x % n)]);
    return out;
  }
}
