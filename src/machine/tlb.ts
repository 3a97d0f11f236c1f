import { FlushKind, TAG_VPN_BITS, TAG_VPN_MASK, WC_LEVEL_SHIFT, WC_PREFIX_MASK, Which } from './constants.js';
import { C, H, TLB_ENTRY_WORDS, WC_ENTRY_WORDS, type Layout, dropHash } from './layout.js';
import { MachineAborted } from './sync.js';

/**
 * Invalidation of one CPU's translation caches, used both by the CPU itself
 * (local flush, IPI handler) and by a remote initiator (hardware broadcast).
 *
 * Only the owning CPU fills entries; anyone may invalidate one, and always with
 * a compare-and-swap of the tag to zero, so an invalidation never destroys an
 * entry it did not examine. A fill racing an invalidation is dealt with on the
 * filling side (see Cpu.fillTlb: it re-reads the page-table entry after
 * publishing the tag).
 */

export interface FlushRequest {
  kind: number;
  asid: number;
  /** vpn range [start, end) for FlushKind.RANGE */
  start: number;
  end: number;
  which: number;
}

function tlbMatches(tag: number, kind: number, asid: number, start: number, end: number): boolean {
  if (kind === FlushKind.ALL) return true;
  if ((tag >>> TAG_VPN_BITS) - 1 !== asid) return false;
  if (kind === FlushKind.ASID) return true;
  const vpn = tag & TAG_VPN_MASK;
  return vpn >= start && vpn < end;
}

/**
 * Drop the entries of one set that `r` covers; each dropped tag goes to the
 * CPU's drop shadow that starts at `drops` (layout.ts dropShadow, the
 * D-TLB's or the I-TLB's). Returns how many it dropped.
 */
function invalidateSet(i32: Int32Array, sb: number, ways: number, r: FlushRequest, local: boolean, drops: number): number {
  let dropped = 0;
  for (let w = 0, at = sb; w < ways; w++, at += TLB_ENTRY_WORDS) {
    const tag = local ? i32[at] : Atomics.load(i32, at);
    if (tag !== 0 && tlbMatches(tag, r.kind, r.asid, r.start, r.end)) {
      if (Atomics.compareExchange(i32, at, tag, 0) === tag) {
        dropped++;
        Atomics.store(i32, drops + dropHash(tag), tag);
      }
    }
  }
  return dropped;
}

function invalidateSets(i32: Int32Array, base: number, sets: number, ways: number, r: FlushRequest, local: boolean, drops: number): number {
  let dropped = 0;
  const setWords = ways * TLB_ENTRY_WORDS + 1;
  if (r.kind === FlushKind.RANGE && r.end - r.start < sets) {
    // A short range looks only at the sets its pages index (invlpg per page).
    for (let v = r.start; v < r.end; v++) dropped += invalidateSet(i32, base + (v & (sets - 1)) * setWords, ways, r, local, drops);
    return dropped;
  }
  for (let s = 0; s < sets; s++) dropped += invalidateSet(i32, base + s * setWords, ways, r, local, drops);
  return dropped;
}

/**
 * Whether a walk-cache entry goes: whole-ASID and global flushes drop every
 * entry of the ASID; a range flush drops entries whose span intersects the
 * range when it is a non-leaf flush (Which.WALK) or when the hardware drops
 * walk-cache entries on leaf invalidates (`leafDrops`).
 */
function wcMatches(tag: number, r: FlushRequest, shift: number, leafDrops: boolean): boolean {
  if (r.kind === FlushKind.ALL) return true;
  if ((tag >>> TAG_VPN_BITS) - 1 !== r.asid) return false;
  if (r.kind === FlushKind.ASID) return true;
  if (!(r.which & Which.WALK) && !leafDrops) return false;
  const level = (tag >>> WC_LEVEL_SHIFT) & 3;
  const span = shift * level;
  const lo = (tag & WC_PREFIX_MASK) << span; // spans stay below 2^24
  const hi = lo + (1 << span);
  return lo < r.end && r.start < hi;
}

function invalidateWalkCache(i32: Int32Array, base: number, n: number, r: FlushRequest, shift: number, leafDrops: boolean, local: boolean): number {
  // A leaf range flush on hardware that keeps walk-cache entries on leaf invalidates matches none.
  if (r.kind === FlushKind.RANGE && !(r.which & Which.WALK) && !leafDrops) return 0;
  let dropped = 0;
  const end = base + n * WC_ENTRY_WORDS;
  for (let at = base; at < end; at += WC_ENTRY_WORDS) {
    const tag = local ? i32[at] : Atomics.load(i32, at);
    if (tag !== 0 && wcMatches(tag, r, shift, leafDrops)) {
      if (Atomics.compareExchange(i32, at, tag, 0) === tag) dropped++;
    }
  }
  return dropped;
}

/**
 * Apply a flush request to `cpu`'s caches; returns how many entries it
 * dropped (the CPU's INVAL_* words count them by cache). Allocates nothing:
 * an IPI handler runs it on the IPI's round trip.
 *
 * `local`: the caller is `cpu` itself. It may then look at its tags with plain
 * loads: it is the only thread that ever writes a non-zero tag there, so a
 * plain load sees every valid entry, and at worst a stale non-zero value of an
 * entry a broadcast already dropped (the CAS then fails, harmlessly). A remote
 * initiator must use SC loads: the fill-revalidation handshake (cpu.ts)
 * depends on its scan being ordered after its page-table update.
 */
export function invalidateCpu(i32: Int32Array, L: Layout, cpu: number, r: FlushRequest, local: boolean): number {
  if (r.kind === FlushKind.SYNC) return 0;
  const cfg = L.cfg;
  let dtlb = 0;
  let itlb = 0;
  let walk = 0;
  // Data-side requests cover data TLB; a request that names the walk cache alone
  // (a pure table flush) still drops leaf entries of the range, as a non-leaf
  // TLBI does.
  if (r.which & (Which.DTLB | Which.WALK)) dtlb = invalidateSets(i32, L.dtlbBase(cpu), cfg.dtlb.sets, cfg.dtlb.ways, r, local, L.dropShadow(cpu, false));
  if (r.which & Which.ITLB) itlb = invalidateSets(i32, L.itlbBase(cpu), cfg.itlb.sets, cfg.itlb.ways, r, local, L.dropShadow(cpu, true));
  if (cfg.walkCache > 0 && r.which & (Which.DTLB | Which.ITLB | Which.WALK)) {
    walk = invalidateWalkCache(i32, L.wcBase(cpu), cfg.walkCache, r, L.shift, cfg.leafDropsWalkCache, local);
  }
  if (dtlb) Atomics.add(i32, L.cpu(cpu, C.INVAL_DTLB), dtlb);
  if (itlb) Atomics.add(i32, L.cpu(cpu, C.INVAL_ITLB), itlb);
  if (walk) Atomics.add(i32, L.cpu(cpu, C.INVAL_WALK), walk);
  return dtlb + itlb + walk;
}

/** One valid entry of a TLB or walk cache, decoded (for inspection and tests). */
export interface TlbEntry {
  cache: 'dtlb' | 'itlb' | 'walk';
  asid: number;
  /** TLB: the vpn. Walk cache: first vpn of the entry's span. */
  vpn: number;
  /** Walk cache only: 1 (points at a PTE table) or 2 (points at a PMD table). */
  level?: number;
  /** TLB: the page-table entry value cached; walk cache: the table frame. */
  value: number;
  gen: number;
  set?: number;
  way?: number;
}

/**
 * The fill sequence of a TLB set (its last word) and of a walk cache (the
 * word after its entries). Only the owning CPU fills, and a fill writes an
 * entry in four stores (tag cleared, value, generation, tag), then re-reads
 * its source and may drop it again. A reader in another thread (the "no
 * stale translation after return" check, reports) that read the words of an
 * entry while they changed could see the tag of one fill with the frame or
 * generation of the next: a translation that never existed, and that looks
 * stale. So the owner makes the word's sequence odd (ONE set) for the whole
 * fill, its re-read included, and the reader takes a set only when it saw
 * the same even sequence before and after reading it (a seqlock; an
 * invalidation only clears tags, which a reader may see either way). The
 * low bits hold the next victim of round-robin replacement.
 */
export const FILL_SEQ = { ONE: 0x1_0000, VICTIM: 0xffff } as const;

/** Spins on a set whose fill is in progress, before each further look waits a little (the owner's thread may be off its core). */
const FILL_SPIN = 200;
let stable = new Int32Array(64);

/**
 * Read `words` words at `at` whose fill sequence is at `seqAt` as one
 * consistent snapshot (see FILL_SEQ): returns them (the first `words` of a
 * buffer the next call reuses), or throws
 * MachineAborted if the machine is aborted meanwhile (a filler that failed
 * mid-fill never closes its sequence).
 */
function readStable(i32: Int32Array, seqAt: number, at: number, words: number): Int32Array {
  // One buffer for every read (the caller copies out what it keeps before the next).
  if (stable.length < words) stable = new Int32Array(words);
  const out = stable;
  for (let tries = 0; ; tries++) {
    const before = Atomics.load(i32, seqAt);
    if ((before & FILL_SEQ.ONE) === 0) {
      for (let k = 0; k < words; k++) out[k] = Atomics.load(i32, at + k);
      if (Atomics.load(i32, seqAt) === before) return out;
    }
    if (Atomics.load(i32, H.ABORT) !== 0) throw new MachineAborted();
    if (tries >= FILL_SPIN) Atomics.wait(i32, seqAt, Atomics.load(i32, seqAt), 0.05);
  }
}

export function dumpCpuCaches(i32: Int32Array, L: Layout, cpu: number): TlbEntry[] {
  const out: TlbEntry[] = [];
  const cfg = L.cfg;
  const sets = (cache: 'dtlb' | 'itlb', base: number, n: number, ways: number): void => {
    const setWords = ways * TLB_ENTRY_WORDS + 1;
    for (let s = 0; s < n; s++) {
      const set = readStable(i32, base + s * setWords + ways * TLB_ENTRY_WORDS, base + s * setWords, ways * TLB_ENTRY_WORDS);
      for (let w = 0; w < ways; w++) {
        const tag = set[w * TLB_ENTRY_WORDS];
        if (tag === 0) continue;
        out.push({ cache, asid: (tag >>> TAG_VPN_BITS) - 1, vpn: tag & TAG_VPN_MASK, value: set[w * TLB_ENTRY_WORDS + 1], gen: set[w * TLB_ENTRY_WORDS + 2], set: s, way: w });
      }
    }
  };
  sets('dtlb', L.dtlbBase(cpu), cfg.dtlb.sets, cfg.dtlb.ways);
  sets('itlb', L.itlbBase(cpu), cfg.itlb.sets, cfg.itlb.ways);
  const base = L.wcBase(cpu);
  const wc = readStable(i32, base + cfg.walkCache * WC_ENTRY_WORDS, base, cfg.walkCache * WC_ENTRY_WORDS);
  for (let e = 0; e < cfg.walkCache; e++) {
    const tag = wc[e * WC_ENTRY_WORDS];
    if (tag === 0) continue;
    const level = (tag >>> WC_LEVEL_SHIFT) & 3;
    out.push({ cache: 'walk', asid: (tag >>> TAG_VPN_BITS) - 1, level, vpn: (tag & WC_PREFIX_MASK) * 2 ** (L.shift * level), value: wc[e * WC_ENTRY_WORDS + 1], gen: wc[e * WC_ENTRY_WORDS + 2] });
  }
  return out;
}
