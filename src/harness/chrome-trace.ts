import { kernelOpName } from '../kernel/index.js';
import { VIOLATION_KIND_NAMES } from '../machine/constants.js';
import { Ev } from '../machine/recorder.js';
import { VERSION } from '../version.js';
import { type PlacedEvent, ipiKey, layoutEvents } from './trace-layout.js';
import { PAGE_SHIFT } from './report.js';
import { describeEvent } from './trace-events.js';

/**
 * One iteration as Trace Event Format JSON (the "Chrome JSON" format
 * Perfetto and chrome://tracing open). docs/trace.md describes what is in it
 * and the rules it keeps; src/harness/trace-check.ts checks them.
 *
 * Layout of one CPU's event at S ns, whose CPU records its next event W ns
 * later (W >= GAP_NS = 40, see trace-layout.ts):
 *
 *   S            spans this event ends (a kernel operation, a flush, an interrupts-off period) end here
 *   S+1 .. S+9   spans cut short at S because one inside them outlived them resume here (never in practice)
 *   S+10         the span this event begins begins here; a violation instant is here
 *   [S+10, S+10+L) this event's own slice (accesses, fills, walks, frees, IPIs), L = min(W - 20, 500)
 *   S+11         an IPI's flow arrow starts (send) or ends (taking) here: inside the IPI's own slice
 *
 * so every slice ends before the CPU's next event, slices nest (a span that
 * ends while a span it contains is open cuts that one in two), and a flow
 * binds to the slice of its own event.
 */

/** The trace as written. */
export interface ChromeTrace {
  traceEvents: ChromeEvent[];
  displayTimeUnit: 'ns';
  otherData: TraceMeta & { tool: 'smpsim'; version: string; timeBase: string };
}

/** One trace event (only the fields smpsim writes). */
export interface ChromeEvent {
  ph: string;
  name?: string;
  cat?: string;
  pid: number;
  tid?: number;
  ts?: number;
  dur?: number;
  s?: 't' | 'p' | 'g';
  id?: number;
  bp?: 'e';
  args?: Record<string, unknown>;
}

/** What the trace is of. */
export interface TraceMeta {
  scenario: string;
  /** The combination, "arch / hw". */
  label: string;
  mode: string;
  /** The iteration traced and its seed, when known. */
  iteration?: number;
  seed?: number;
}

const PID = 1;
const RESUME = 1;
const OPEN = 10;
const FLOW = 11;
const LEAF_MAX = 500;

export const TIME_BASES = {
  pct: 'pct: 1 gate step = 1 µs (ts in µs is the gate step); events one CPU records in one step are spread over that µs in recorded order',
  stress: 'stress: wall-clock µs since the iteration\'s first recorded event',
} as const;

/**
 * A timestamp or duration in µs from whole ns. A fraction carries an extra
 * half nanosecond: Perfetto reads µs × 1000 truncated to an integer, and
 * 1.001 × 1000 is 1000.9999…, which would move the event by 1 ns and
 * could break the nesting of slices that end together.
 */
export function micros(ns: number): number {
  return ns % 1000 === 0 ? ns / 1000 : (ns + 0.5) / 1000;
}

const addr = (vpn: number): string => `0x${(vpn * 2 ** PAGE_SHIFT).toString(16)}`;
const leafCat = (kind: number): string =>
  kind === Ev.ACCESS ? 'access' : kind === Ev.FREE || kind === Ev.ALLOC ? 'alloc' : kind === Ev.IPI_SEND || kind === Ev.IPI_HANDLE ? 'ipi' : 'walk';

interface Span {
  kind: 'kernel' | 'flush' | 'irq';
  name: string;
  args?: Record<string, unknown>;
  start: number;
}

/** One CPU's slices: spans kept on a stack so that whatever is written nests. */
class Track {
  private readonly stack: Span[] = [];
  constructor(
    private readonly tid: number,
    private readonly out: ChromeEvent[],
  ) {}

  private emit(s: Span, end: number): void {
    this.out.push({ ph: 'X', name: s.name, cat: s.kind, pid: PID, tid: this.tid, ts: micros(s.start), dur: micros(end - s.start), ...(s.args ? { args: s.args } : {}) });
  }

  open(kind: Span['kind'], name: string, at: number, args?: Record<string, unknown>): void {
    this.stack.push({ kind, name, args, start: at });
  }

  /**
   * End the innermost open span of `kind` at `at`. Spans opened inside it
   * and still open end there too, and resume at at+1, at+2, … (distinct
   * starts, so no two slices of the track begin together).
   */
  close(kind: Span['kind'], at: number): void {
    const i = this.stack.map((s) => s.kind).lastIndexOf(kind);
    if (i < 0) return;
    const above = this.stack.splice(i + 1);
    for (const s of [...above].reverse()) this.emit(s, at);
    this.emit(this.stack.pop()!, at);
    above.forEach((s, n) => this.stack.push({ ...s, start: at + RESUME + Math.min(n, OPEN - RESUME - 1) }));
  }

  /** End every open span at `at` (the end of the trace). */
  closeAll(at: number): void {
    while (this.stack.length) this.emit(this.stack.pop()!, at);
  }
}

/** The trace of one iteration from each CPU's recorded events (see the header). */
export function toChromeTrace(perCpu: number[][], meta: TraceMeta): ChromeTrace {
  const mode = meta.mode === 'pct' ? 'pct' : 'stress';
  const placed = layoutEvents(perCpu, mode);
  const slices: ChromeEvent[] = [];
  // Takings of IPIs whose send was recorded: each send's flow ends at the first one.
  const sends = new Set(placed.flat().filter((e) => e.kind === Ev.IPI_SEND).map((e) => ipiKey(e.cpu, e.b)));
  const taken = new Set(placed.flat().filter((e) => e.kind === Ev.IPI_HANDLE).map((e) => ipiKey(e.a, e.b)));
  const flowEnded = new Set<string>();
  const end = Math.max(0, ...placed.map((evs) => (evs.length ? evs[evs.length - 1].ns + evs[evs.length - 1].width : 0)));
  placed.forEach((evs, cpu) => {
    const track = new Track(cpu, slices);
    for (const e of evs) addEvent(track, e, slices, { sends, taken, flowEnded });
    track.closeAll(end);
  });
  const metadata: ChromeEvent[] = [{ ph: 'M', name: 'process_name', pid: PID, args: { name: `smpsim ${meta.scenario} (${meta.label}, ${meta.mode})` } }];
  for (let c = 0; c < perCpu.length; c++) {
    metadata.push({ ph: 'M', name: 'thread_name', pid: PID, tid: c, args: { name: c === 0 ? 'CPU 0 (coordinator)' : `CPU ${c}` } });
    metadata.push({ ph: 'M', name: 'thread_sort_index', pid: PID, tid: c, args: { sort_index: c } });
  }
  // Time order; of slices starting together (never on one track), the longer first.
  slices.sort((x, y) => x.ts! - y.ts! || (y.dur ?? -1) - (x.dur ?? -1));
  return { traceEvents: [...metadata, ...slices], displayTimeUnit: 'ns', otherData: { tool: 'smpsim', version: VERSION, ...meta, timeBase: TIME_BASES[mode] } };
}

function addEvent(track: Track, e: PlacedEvent, out: ChromeEvent[], ipis: { sends: Set<string>; taken: Set<string>; flowEnded: Set<string> }): void {
  const S = e.ns;
  const base = { pid: PID, tid: e.cpu };
  const leaf = (name: string, cat: string): void => void out.push({ ...base, ph: 'X', name, cat, ts: micros(S + OPEN), dur: micros(Math.min(e.width - 2 * OPEN, LEAF_MAX)) });
  const flow = (ph: 's' | 'f', id: string): void => {
    const [sender, serial] = id.split(':').map(Number);
    out.push({ ...base, ph, name: 'IPI', cat: 'ipi', id: sender * 1e6 + serial, ts: micros(S + FLOW), ...(ph === 'f' ? { bp: 'e' as const } : {}) });
  };
  switch (e.kind) {
    case Ev.IRQ:
      if (e.a) track.close('irq', S);
      else track.open('irq', 'interrupts off', S + OPEN);
      return;
    case Ev.KERNEL_OP:
      track.close('kernel', S);
      if (e.a) track.open('kernel', kernelOpName(e.a), S + OPEN, { address: addr(e.b) });
      return;
    case Ev.FLUSH:
      track.open('flush', describeEvent(e), S + OPEN);
      return;
    case Ev.FLUSH_DONE:
      track.close('flush', S);
      return;
    case Ev.VIOLATION:
      out.push({ ...base, ph: 'i', s: 't', name: describeEvent(e), cat: 'violation', ts: micros(S + OPEN), args: { kind: VIOLATION_KIND_NAMES[e.a] ?? `kind ${e.a}`, address: addr(e.b), frame: e.c } });
      return;
    case Ev.IPI_SEND: {
      leaf(describeEvent(e), 'ipi');
      const id = ipiKey(e.cpu, e.b);
      if (ipis.taken.has(id)) flow('s', id);
      return;
    }
    case Ev.IPI_HANDLE: {
      leaf(describeEvent(e), 'ipi');
      const id = ipiKey(e.a, e.b);
      if (ipis.sends.has(id) && !ipis.flowEnded.has(id)) {
        ipis.flowEnded.add(id);
        flow('f', id);
      }
      return;
    }
    default:
      leaf(describeEvent(e), leafCat(e.kind));
  }
}
