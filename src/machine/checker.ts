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

export function recordViolation(i32: Int32Array, L: Layout, v: ViolationFields): void {
  const idx = Atomics.add(i32, H.VLOG_COUNT, 1);
  if (idx >= L.cfg.violationLogSize) {
    Atomics.add(i32, H.VLOG_OVERFLOW, 1);
    return;
  }
  const f = v.frame;
  const freeCpu = f >= 0 && f < L.cfg.frames ? Atomics.load(i32, L.frame(f, F.FREE_CPU)) : -1;
  const put = (field: number, value: number): void => {
    Atomics.store(i32, L.violation(idx, field), value);
  };
  put(V.KIND, v.kind);
  put(V.CPU, v.cpu);
  put(V.VPN, v.vpn);
  put(V.FRAME, f);
  put(V.FRAME_KIND, Atomics.load(i32, L.frame(f, F.KIND)));
  put(V.GEN_FILL, v.genFill);
  put(V.GEN_NOW, Atomics.load(i32, L.frame(f, F.GEN)));
  put(V.OWNER_BEFORE, v.ownerBefore);
  put(V.OWNER_NOW, Atomics.load(i32, L.frame(f, F.OWNER)));
  put(V.STEP_LO, v.step % 2 ** 32 | 0);
  put(V.STEP_HI, Math.floor(v.step / 2 ** 32));
  put(V.ITERATION, Atomics.load(i32, H.ITERATION));
  put(V.SEED_LO, Atomics.load(i32, H.SEED_LO));
  put(V.SEED_HI, Atomics.load(i32, H.SEED_HI));
  put(V.CPU_OP, v.cpuOp);
  put(V.FREE_OP, Atomics.load(i32, L.frame(f, F.FREE_OP)));
  put(V.FREE_ARG, Atomics.load(i32, L.frame(f, F.FREE_ARG)));
  put(V.FREE_CPU, freeCpu);
  put(V.FREER_OP_NOW, freeCpu >= 0 ? Atomics.load(i32, L.cpu(freeCpu, C.KERNEL_OP)) : 0);
  put(V.FREER_ARG_NOW, freeCpu >= 0 ? Atomics.load(i32, L.cpu(freeCpu, C.KERNEL_ARG)) : 0);
  put(V.LEVEL, v.level);
  Atomics.store(i32, L.violation(idx, V.VALID), 1);
}

/** A violation record, decoded. */
export interface Violation {
  kind: number;
  cpu: number;
  vpn: number;
  frame: number;
  frameKind: number;
  genAtFill: number;
  genNow: number;
  ownerBefore: number;
  ownerNow: number;
  step: number;
  iteration: number;
  seed: number;
  cpuOp: number;
  /** Kernel op code (and argument) that last freed the frame, and on which CPU. */
  freedBy: { op: number; arg: number; cpu: number };
  /** Kernel op the freeing CPU had in flight when the violation was seen. */
  freerNow: { op: number; arg: number };
  /** Table level read (walker violations), 0 otherwise. */
  level: number;
}

/** Records written so far (complete ones only) and the overflow count. */
export function readViolations(i32: Int32Array, L: Layout): { records: Violation[]; total: number; overflow: number } {
  const total = Atomics.load(i32, H.VLOG_COUNT);
  const n = Math.min(total, L.cfg.violationLogSize);
  const records: Violation[] = [];
  for (let i = 0; i < n; i++) {
    const g = (field: number): number => Atomics.load(i32, L.violation(i, field));
    if (!g(V.VALID)) continue;
    records.push({
      kind: g(V.KIND),
      cpu: g(V.CPU),
      vpn: g(V.VPN),
      frame: g(V.FRAME),
      frameKind: g(V.FRAME_KIND),
      genAtFill: g(V.GEN_FILL),
      genNow: g(V.GEN_NOW),
      ownerBefore: g(V.OWNER_BEFORE),
      ownerNow: g(V.OWNER_NOW),
      step: (g(V.STEP_HI) >>> 0) * 2 ** 32 + (g(V.STEP_LO) >>> 0),
      iteration: g(V.ITERATION),
      seed: (g(V.SEED_HI) >>> 0) * 2 ** 32 + (g(V.SEED_LO) >>> 0),
      cpuOp: g(V.CPU_OP),
      freedBy: { op: g(V.FREE_OP), arg: g(V.FREE_ARG), cpu: g(V.FREE_CPU) },
      freerNow: { op: g(V.FREER_OP_NOW), arg: g(V.FREER_ARG_NOW) },
      level: g(V.LEVEL),
    });
  }
  return { records, total, overflow: Atomics.load(i32, H.VLOG_OVERFLOW) };
}
