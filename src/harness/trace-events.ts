/** The recorded events of one iteration, decoded, merged in time order, and as text. */
import { createHash } from 'node:crypto';
import { kernelOpName } from '../kernel/index.js';
import { FLUSH_KIND_NAMES, FRAME_KIND_NAMES, VIOLATION_KIND_NAMES } from '../machine/constants.js';
import { EV_FIELDS, Ev } from '../machine/recorder.js';
import { PAGE_SHIFT } from './report.js';

/** One recorded event, decoded. */
export interface TraceEvent {
  t: number;
  cpu: number;
  kind: number;
  a: number;
  b: number;
  c: number;
}

/** Merge the CPUs' flat event logs into one list in time order (stable per CPU). */
export function mergeEvents(perCpu: number[][]): TraceEvent[] {
  const out: TraceEvent[] = [];
  for (const data of perCpu) {
    for (let i = 0; i < data.length; i += EV_FIELDS) out.push({ t: data[i], cpu: data[i + 1], kind: data[i + 2], a: data[i + 3], b: data[i + 4], c: data[i + 5] });
  }
  return out.sort((x, y) => x.t - y.t || x.cpu - y.cpu);
}

const ACCESS_NAMES = ['load', 'store', 'fetch'];
const RESULT_NAMES = ['ok', 'fault', 'VIOLATION'];
const addr = (vpn: number): string => `0x${(vpn * 2 ** PAGE_SHIFT).toString(16)}`;

/** One line of text per event. */
export function describeEvent(e: TraceEvent): string {
  switch (e.kind) {
    case Ev.ACCESS:
      return `${ACCESS_NAMES[e.a]} ${addr(e.b)} → ${RESULT_NAMES[e.c] ?? e.c}`;
    case Ev.FILL:
      return `TLB miss: walk, fill ${e.a ? 'I-TLB' : 'D-TLB'} ${addr(e.b)} → frame ${e.c}`;
    case Ev.SPEC_WALK:
      return `speculative walk ${addr(e.a)}${e.b ? ' (filled)' : ''}`;
    case Ev.IPI_SEND:
      return `send IPI #${e.b} (${FLUSH_KIND_NAMES[e.c]}) to CPU ${e.a}`;
    case Ev.IPI_HANDLE:
      return `take IPI #${e.b} (${FLUSH_KIND_NAMES[e.c]}) from CPU ${e.a}, acknowledge`;
    case Ev.IRQ:
      return e.a ? 'interrupts on' : 'interrupts off';
    case Ev.GUP:
      return `gup_fast: ${gupStepText(e.a, addr(e.b))}${e.c ? ' (walk ends)' : ''}`;
    case Ev.KERNEL_OP:
      return e.a ? `kernel: ${kernelOpName(e.a)} ${addr(e.b)}` : 'kernel: return';
    case Ev.FREE:
      return `free frame ${e.a} (${FRAME_KIND_NAMES[e.b]})`;
    case Ev.ALLOC:
      return `allocate frame ${e.a} as ${FRAME_KIND_NAMES[e.b]}`;
    case Ev.FLUSH:
      return `flush ${FLUSH_KIND_NAMES[e.a]}${e.a === 3 ? ` [${addr(e.b)}, ${addr(e.c)})` : ''}`;
    case Ev.FLUSH_DONE:
      return 'flush complete';
    case Ev.VIOLATION:
      return `VIOLATION ${VIOLATION_KIND_NAMES[e.a]} at ${addr(e.b)}, frame ${e.c}`;
    default:
      return `event ${e.kind}`;
  }
}

/** The interleaving as text, step by step: the `context` events before the first violation, and it. */
export function interleavingText(events: TraceEvent[], context = 60): string[] {
  const v = events.findIndex((e) => e.kind === Ev.VIOLATION);
  const end = v < 0 ? events.length : v + 1;
  const from = Math.max(0, end - context);
  const lines = events.slice(from, end).map((e) => `step ${String(e.t).padStart(7)}  CPU ${e.cpu}  ${' '.repeat(e.cpu * 2)}${describeEvent(e)}`);
  if (from > 0) lines.unshift(`... ${from} earlier events`);
  return lines;
}

/** A stable digest of an event sequence (determinism checks). */
export function eventsHash(events: TraceEvent[]): string {
  const h = createHash('sha256');
  for (const e of events) h.update(`${e.t},${e.cpu},${e.kind},${e.a},${e.b},${e.c};`);
  return h.digest('hex');
}

/** Ev.GUP's first argument: 0 reference, 1..3 table level read, 4 recheck, 5 back-off. */
function gupStepText(step: number, address: string): string {
  if (step === 0) return `reference the page at ${address}`;
  if (step === 4) return `re-read pmd and PTE of ${address}`;
  if (step === 5) return `back off at ${address} (reference failed or entry changed)`;
  return `read level-${step} table for ${address}`;
}
