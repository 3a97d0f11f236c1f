import { C, F, H, V, type Layout } from './layout.js';

/**
 * The shared violation log: a bounded array of fixed-size records. A recorder
 * claims a slot with one atomic add, fills it, then sets VALID last, so a
 * reader never sees half a record. Past capacity only the overflow count grows.
 * Nothing here throws: a violation is data, never an exception across threads.
 */

export interface ViolationFields {
  kind: number;
  cpu: number;
  vpn: number;
  frame: number;
  genFill: number;
  ownerBefore: number;
  cpuOp: number;
  step: number;
  level: number;
  /**
   * For a stale-after-return finding: the CPU whose system call returned,
   * and the call (kernel op code); absent for the other kinds.
   */
  call?: { cpu: number; op: number };
}

/**
 * Whether `frame` is still the allocation something was made for: generation
 * `gen` (read where the pointer to it was, or when a TLB or walk-cache entry
 * was filled) and of `kind` (FrameKind.DATA for a page, the table kind of a
 * level for a table). Not so: it was freed, or freed and reallocated, since.
 * Sequentially consistent loads. Cpu.complete, on the TLB-hit path, makes the
 * same check with plain loads, inline (see there).
 */
export function frameIsCurrent(i32: Int32Array, L: Layout, frame: number, gen: number, kind: number): boolean {
  const fm = L.frame(frame, 0);
  return Atomics.load(i32, fm + F.GEN) === gen && Atomics.load(i32, fm + F.KIND) === kind;
}

/** What recording a violation knows: the detector's fields, and the machine it reads the frame, header and freeing CPU from. */
interface RecordSource {
  i32: Int32Array;
  L: Layout;
  v: ViolationFields;
  /** The CPU that last freed the frame, -1 if none did. */
  freeCpu: number;
}

const frameWord = (s: RecordSource, field: number): number => Atomics.load(s.i32, s.L.frame(s.v.frame, field));
const freerWord = (s: RecordSource, field: number): number => (s.freeCpu >= 0 ? Atomics.load(s.i32, s.L.cpu(s.freeCpu, field)) : 0);

/**
 * The words of a violation record, in order (after VALID), and where each
 * value comes from when the violation is recorded: the detector, the frame's
 * metadata, the iteration header, the CPU that freed the frame. The record's
 * layout, the recorder and the reader all derive from this list, and so does
 * the Violation type: a new field is one line here (and one in
 * harness/report.ts to print it).
 */
const RECORD = {
  kind: (s: RecordSource) => s.v.kind,
  cpu: (s: RecordSource) => s.v.cpu,
  vpn: (s: RecordSource) => s.v.vpn,
  frame: (s: RecordSource) => s.v.frame,
  frameKind: (s: RecordSource) => frameWord(s, F.KIND),
  genAtFill: (s: RecordSource) => s.v.genFill,
  genNow: (s: RecordSource) => frameWord(s, F.GEN),
  ownerBefore: (s: RecordSource) => s.v.ownerBefore,
  ownerNow: (s: RecordSource) => frameWord(s, F.OWNER),
  stepLo: (s: RecordSource) => s.v.step % 2 ** 32 | 0,
  stepHi: (s: RecordSource) => Math.floor(s.v.step / 2 ** 32),
  iteration: (s: RecordSource) => Atomics.load(s.i32, H.ITERATION),
  seedLo: (s: RecordSource) => Atomics.load(s.i32, H.SEED_LO),
  seedHi: (s: RecordSource) => Atomics.load(s.i32, H.SEED_HI),
  cpuOp: (s: RecordSource) => s.v.cpuOp,
  freeOp: (s: RecordSource) => frameWord(s, F.FREE_OP),
  freeArg: (s: RecordSource) => frameWord(s, F.FREE_ARG),
  freeCpu: (s: RecordSource) => s.freeCpu,
  /** Kernel op in flight on the freeing CPU when the violation was seen. */
  freerOpNow: (s: RecordSource) => freerWord(s, C.KERNEL_OP),
  freerArgNow: (s: RecordSource) => freerWord(s, C.KERNEL_ARG),
  /** Table level for walker violations (1..3), 0 otherwise. */
  level: (s: RecordSource) => s.v.level,
  /** Stale after return: the CPU whose call returned (-1: not such a finding), and the call. */
  callCpu: (s: RecordSource) => s.v.call?.cpu ?? -1,
  callOp: (s: RecordSource) => s.v.call?.op ?? 0,
} as const;
type RecordWords = { [K in keyof typeof RECORD]: number };
const RECORD_FIELDS = Object.entries(RECORD) as [keyof typeof RECORD, (s: RecordSource) => number][];
if (1 + RECORD_FIELDS.length > V.WORDS) throw new Error(`a violation record has ${RECORD_FIELDS.length} fields, layout.ts V.WORDS leaves room for ${V.WORDS - 1}`);

export function recordViolation(i32: Int32Array, L: Layout, v: ViolationFields): void {
  const idx = Atomics.add(i32, H.VLOG_COUNT, 1);
  if (idx >= L.cfg.violationLogSize) {
    Atomics.add(i32, H.VLOG_OVERFLOW, 1);
    return;
  }
  const f = v.frame;
  const src: RecordSource = { i32, L, v, freeCpu: f >= 0 && f < L.cfg.frames ? Atomics.load(i32, L.frame(f, F.FREE_CPU)) : -1 };
  // Plain stores: the sequentially consistent store of VALID publishes them
  // (a reader loads VALID first), as ipi.ts post() publishes an IPI's fields.
  const at = L.violation(idx, V.FIRST);
  for (let w = 0; w < RECORD_FIELDS.length; w++) i32[at + w] = RECORD_FIELDS[w][1](src);
  Atomics.store(i32, L.violation(idx, V.VALID), 1);
}

/**
 * A violation record, decoded: the record's words, with the 64-bit step and
 * seed joined and the freeing side grouped.
 */
export type Violation = Omit<RecordWords, 'stepLo' | 'stepHi' | 'seedLo' | 'seedHi' | 'freeOp' | 'freeArg' | 'freeCpu' | 'freerOpNow' | 'freerArgNow' | 'callCpu' | 'callOp'> & {
  step: number;
  seed: number;
  /** Kernel op code (and argument) that last freed the frame, and on which CPU. */
  freedBy: { op: number; arg: number; cpu: number };
  /** Kernel op the freeing CPU had in flight when the violation was seen. */
  freerNow: { op: number; arg: number };
  /** Stale after return: which CPU's call returned, and the call (kernel op code); null for other kinds. */
  call: { cpu: number; op: number } | null;
};

const join64 = (hi: number, lo: number): number => (hi >>> 0) * 2 ** 32 + (lo >>> 0);

/** Records written so far (complete ones only) and the overflow count. */
export function readViolations(i32: Int32Array, L: Layout): { records: Violation[]; total: number; overflow: number } {
  return readLog(i32, L, false);
}

/**
 * The first record of each kind in the log, in log order, with the same
 * counts: all a run's report keeps of an iteration (the kinds it saw and the
 * first violation of each), read without decoding the rest. A buggy policy
 * fills the whole log every iteration, and decoding it cost a batch's
 * leader more than the iteration itself.
 */
export function readViolationKinds(i32: Int32Array, L: Layout): { records: Violation[]; total: number; overflow: number } {
  return readLog(i32, L, true);
}

const KIND_FIELD = RECORD_FIELDS.findIndex(([name]) => name === 'kind');

function readLog(i32: Int32Array, L: Layout, firstOfKind: boolean): { records: Violation[]; total: number; overflow: number } {
  const total = Atomics.load(i32, H.VLOG_COUNT);
  const n = Math.min(total, L.cfg.violationLogSize);
  const records: Violation[] = [];
  const kinds = new Set<number>();
  for (let i = 0; i < n; i++) {
    if (!Atomics.load(i32, L.violation(i, V.VALID))) continue;
    if (firstOfKind) {
      const kind = Atomics.load(i32, L.violation(i, V.FIRST + KIND_FIELD));
      if (kinds.has(kind)) continue;
      kinds.add(kind);
    }
    records.push(decodeRecord(i32, L, i));
  }
  return { records, total, overflow: Atomics.load(i32, H.VLOG_OVERFLOW) };
}

function decodeRecord(i32: Int32Array, L: Layout, i: number): Violation {
  const w = Object.fromEntries(RECORD_FIELDS.map(([name], k) => [name, Atomics.load(i32, L.violation(i, V.FIRST + k))])) as RecordWords;
  const { stepLo, stepHi, seedLo, seedHi, freeOp, freeArg, freeCpu, freerOpNow, freerArgNow, callCpu, callOp, ...rest } = w;
  return {
    ...rest,
    step: join64(stepHi, stepLo),
    seed: join64(seedHi, seedLo),
    freedBy: { op: freeOp, arg: freeArg, cpu: freeCpu },
    freerNow: { op: freerOpNow, arg: freerArgNow },
    call: callCpu >= 0 ? { cpu: callCpu, op: callOp } : null,
  };
}
