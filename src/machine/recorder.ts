/**
 * Per-thread event recording for traces and replays. Only a traced
 * iteration pays for it: every recording site is `if (cpu.rec !== null)`.
 * Events are flat numbers (time, kind, a, b, c) so that a thread's log
 * crosses to the harness as one array.
 */
export const Ev = {
  /** a: access type (0 load, 1 store, 2 fetch), b: vpn, c: AccessResult */
  ACCESS: 1,
  /** a: 0 D-TLB / 1 I-TLB, b: vpn, c: frame */
  FILL: 2,
  /** a: vpn, b: 1 if it filled */
  SPEC_WALK: 3,
  /** a: target, b: sender's IPI serial, c: FlushKind */
  IPI_SEND: 4,
  /** a: sender, b: sender's IPI serial, c: FlushKind */
  IPI_HANDLE: 5,
  /** a: 1 on, 0 off */
  IRQ: 6,
  /** a: level read (3 pgd .. 1 pte, 0 pin), b: vpn, c: 1 if the walk ended */
  GUP: 7,
  /** a: kernel op code, b: its argument */
  KERNEL_OP: 8,
  /** a: frame, b: frame kind before */
  FREE: 9,
  /** a: FlushKind, b: start vpn, c: end vpn */
  FLUSH: 10,
  /** a: FlushKind, b: the caches it covered (Which: D-TLB, I-TLB, walk cache bits) */
  FLUSH_DONE: 11,
  /** a: violation kind, b: vpn, c: frame */
  VIOLATION: 12,
  /** a: frame, b: kind */
  ALLOC: 13,
} as const;

export const EV_FIELDS = 6;

export class Recorder {
  /** Flat: time, cpu, kind, a, b, c per event. */
  readonly data: number[] = [];
  constructor(
    private readonly cpu: number,
    private readonly clock: () => number,
  ) {}

  ev(kind: number, a: number, b = 0, c = 0): void {
    this.data.push(this.clock(), this.cpu, kind, a, b, c);
  }
}

/** Microseconds since the epoch, comparable across threads. */
export function wallMicros(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}
