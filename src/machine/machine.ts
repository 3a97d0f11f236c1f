import { FrameAllocator } from './allocator.js';
import { type Violation, readViolations } from './checker.js';
import { type MachineConfig, resolveConfig } from './config.js';
import { A, C, COUNTER_NAMES, type CounterName, FI, G, H, K, Layout, MAGIC, Views } from './layout.js';
import { PageTables } from './pagetable.js';
import { type TlbEntry, dumpCpuCaches } from './tlb.js';
import type { Gate } from './gate.js';
import { NO_POLL, waitUntil } from './wait.js';

export type CpuCounters = Record<CounterName | 'invalidatedDtlb' | 'invalidatedItlb' | 'invalidatedWalk', number>;

/**
 * A machine's shared state and the operations on it as a whole: creation,
 * in-place reset between iterations, the start barrier, and read-out of
 * counters, caches and violations. Any thread can wrap the same buffer.
 */
export class Machine {
  readonly layout: Layout;
  readonly views: Views;
  readonly alloc: FrameAllocator;
  readonly pt: PageTables;
  /** The host-core gate's words (Layout.coreGateWords), which a reset between the iterations of a batch leaves alone. */
  private readonly coreWords: readonly number[];

  private constructor(
    readonly config: MachineConfig,
    readonly sab: SharedArrayBuffer,
  ) {
    this.layout = new Layout(config);
    this.views = new Views(this.layout, sab);
    this.alloc = new FrameAllocator(this.views.i32, this.layout);
    this.pt = new PageTables(this.views.i32, this.layout, this.alloc);
    this.coreWords = this.layout.coreGateWords();
  }

  /** A new machine (validates the config, allocates and resets the buffer). */
  static create(partial: Partial<MachineConfig> = {}): Machine {
    const config = resolveConfig(partial);
    const layout = new Layout(config);
    const m = new Machine(config, new SharedArrayBuffer(layout.byteLength));
    m.reset();
    return m;
  }

  /** Wrap an existing buffer (in a worker). */
  static attach(config: MachineConfig, sab: SharedArrayBuffer): Machine {
    const m = new Machine(config, sab);
    if (Atomics.load(m.views.i32, H.MAGIC) !== MAGIC) throw new Error('shared buffer is not an smpsim machine');
    return m;
  }

  get i32(): Int32Array {
    return this.views.i32;
  }

  /**
   * Back to power-on state, in place: every frame free with generation 0, no
   * address space, every file cfg.filePages long with an empty page cache and
   * no mapping, empty caches and mailboxes, interrupts on, zero counters,
   * empty violation log. Only while no thread runs on the machine; with
   * `keepCores`, threads may be using the host-core gate meanwhile (a batch
   * of stress iterations keeps it from one iteration to the next), and its
   * words (Layout.coreGateWords) are not written at all.
   */
  reset(iteration = 0, seed = 0, keepCores = false): void {
    const { i32, f64 } = this.views;
    const L = this.layout;
    if (keepCores) {
      let from = 0;
      for (const w of this.coreWords) {
        i32.fill(0, from, w);
        from = w + 1;
      }
      i32.fill(0, from);
    } else i32.fill(0);
    f64.fill(0);
    i32[H.MAGIC] = MAGIC;
    i32[H.ITERATION] = iteration;
    i32[H.SEED_LO] = seed % 2 ** 32 | 0;
    i32[H.SEED_HI] = Math.floor(seed / 2 ** 32);
    this.alloc.reset();
    for (let c = 0; c < L.cfg.cpus; c++) {
      i32[L.cpu(c, C.CUR_MM)] = -1;
      i32[L.cpu(c, C.IRQ_ENABLED)] = 1;
    }
    for (let f = 0; f < L.cfg.files; f++) i32[L.file(f, FI.SIZE)] = L.cfg.filePages;
    Atomics.store(i32, H.MAGIC, MAGIC);
  }

  /** Set the iteration number and seed that violation records carry. */
  setIteration(iteration: number, seed: number): void {
    const i32 = this.views.i32;
    Atomics.store(i32, H.ITERATION, iteration);
    Atomics.store(i32, H.SEED_LO, seed % 2 ** 32 | 0);
    Atomics.store(i32, H.SEED_HI, Math.floor(seed / 2 ** 32));
  }

  requestStop(): void {
    Atomics.store(this.views.i32, H.STOP, 1);
  }
  clearStop(): void {
    Atomics.store(this.views.i32, H.STOP, 0);
  }
  stopRequested(): boolean {
    return Atomics.load(this.views.i32, H.STOP) !== 0;
  }
  /** Make every waiter on this machine give up (a thread failed). */
  abort(): void {
    const i32 = this.views.i32;
    Atomics.store(i32, H.ABORT, 1);
    Atomics.store(i32, H.STOP, 1);
    for (let c = 0; c < this.layout.cfg.cpus; c++) {
      Atomics.add(i32, this.layout.cpu(c, C.DOORBELL), 1);
      Atomics.notify(i32, this.layout.cpu(c, C.DOORBELL));
      Atomics.notify(i32, this.layout.cpu(c, C.EPOCH));
      Atomics.notify(i32, this.layout.cpu(c, C.CORE_STATE));
    }
    Atomics.add(i32, H.BARRIER_GEN, 1);
    Atomics.notify(i32, H.BARRIER_GEN);
    Atomics.notify(i32, this.layout.gateWord(G.TURN));
  }
  aborted(): boolean {
    return Atomics.load(this.views.i32, H.ABORT) !== 0;
  }

  /**
   * Start barrier for `parties` threads: everyone leaves together, so the
   * races of an iteration are not decided by who got its start message first.
   * A thread that entered the host-core gate first passes its `gate`: while
   * it waits it hands its core to the threads still to arrive (cores.ts), so
   * the release is a hand-off, not a wake-up the host's scheduler delays.
   */
  barrier(parties: number, timeoutMs = 10_000, gate: Gate | null = null): void {
    const i32 = this.views.i32;
    const gen = Atomics.load(i32, H.BARRIER_GEN);
    if (Atomics.add(i32, H.BARRIER_COUNT, 1) + 1 === parties) {
      Atomics.store(i32, H.BARRIER_COUNT, 0);
      Atomics.add(i32, H.BARRIER_GEN, 1);
      Atomics.notify(i32, H.BARRIER_GEN);
      return;
    }
    waitUntil(i32, () => Atomics.load(i32, H.BARRIER_GEN) !== gen, {
      spin: this.config.spinLimit,
      poll: NO_POLL,
      // abort() bumps and notifies BARRIER_GEN too.
      sleep: () => Atomics.wait(i32, H.BARRIER_GEN, gen, 50),
      timeoutMs,
      onTimeout: () => new Error(`start barrier: not all ${parties} threads arrived within ${timeoutMs} ms`),
      // A thread under the host-core gate (it entered before the barrier)
      // hands its core to those still arriving rather than sleeping on it.
      gate: gate !== null && gate.cores !== null && gate.cores.holding ? gate : null,
    });
  }

  counters(cpu: number): CpuCounters {
    const L = this.layout;
    const out = {} as CpuCounters;
    for (const name of COUNTER_NAMES) out[name] = this.views.f64[L.counter(cpu, K[name])];
    // Not counted on the hot path: the step count is published at every
    // quiescence point, and every access is a hit or a miss.
    out.steps = out.stepNow;
    out.accesses = out.dtlbHits + out.dtlbMisses + out.itlbHits + out.itlbMisses;
    out.invalidatedDtlb = Atomics.load(this.views.i32, L.cpu(cpu, C.INVAL_DTLB));
    out.invalidatedItlb = Atomics.load(this.views.i32, L.cpu(cpu, C.INVAL_ITLB));
    out.invalidatedWalk = Atomics.load(this.views.i32, L.cpu(cpu, C.INVAL_WALK));
    return out;
  }

  caches(cpu: number): TlbEntry[] {
    return dumpCpuCaches(this.views.i32, this.layout, cpu);
  }

  violations(): { records: Violation[]; total: number; overflow: number } {
    return readViolations(this.views.i32, this.layout);
  }

  cpumask(asid: number): number {
    return Atomics.load(this.views.i32, this.layout.space(asid, A.CPUMASK));
  }
}
