import { EV_FIELDS, Ev } from '../machine/recorder.js';
import type { TraceEvent } from './trace-events.js';

/**
 * Where each recorded event of one iteration sits on a trace's time axis,
 * in whole nanoseconds.
 *
 * Time base. pct mode: 1 gate step = 1 µs, so a timestamp in µs is the gate
 * step (`smpsim replay` prints the same step numbers); the events one CPU
 * records within one step are spread evenly over that microsecond, in the
 * order it recorded them. stress mode: wall-clock time since the
 * iteration's first event.
 *
 * Two corrections keep the trace drawable and are the only liberties taken
 * with the recorded times (a few tens of nanoseconds each):
 * - one CPU's events are at least GAP_NS apart, in their recorded order
 *   (a clock read twice in the same nanosecond, or a step with more than
 *   1000 / GAP_NS events, would otherwise put two events at one instant);
 * - an IPI is taken at least GAP_NS after it was sent. The sender records
 *   the send after posting it, so in stress mode the target's clock can read
 *   earlier than the sender's; a flow arrow that ends before it starts is
 *   dropped by Perfetto.
 */

/** Smallest distance between two events of one CPU, and between an IPI's send and its taking. */
export const GAP_NS = 40;
/** Nanoseconds per gate step in pct traces. */
export const NS_PER_STEP = 1000;

/** An event with its place on the axis. */
export interface PlacedEvent extends TraceEvent {
  /** Where it happened (ns). */
  ns: number;
  /** Time to the same CPU's next event (ns), or NS_PER_STEP after the CPU's last one. */
  width: number;
}

/** The key that pairs an IPI's send with its taking: sender and the sender's serial. */
export const ipiKey = (sender: number, serial: number): string => `${sender}:${serial}`;

/** Each CPU's events in recorded order, placed on the axis (see the header). */
export function layoutEvents(perCpu: readonly number[][], mode: 'stress' | 'pct'): PlacedEvent[][] {
  const cpus = perCpu.map((data) => {
    const out: TraceEvent[] = [];
    for (let i = 0; i < data.length; i += EV_FIELDS) out.push({ t: data[i], cpu: data[i + 1], kind: data[i + 2], a: data[i + 3], b: data[i + 4], c: data[i + 5] });
    return out;
  });
  // stress: the iteration's first event, over every CPU, is time 0.
  const t0 = Math.min(...cpus.map((e) => (e.length ? e[0].t : Infinity)));
  const raw = cpus.map((evs) => (mode === 'pct' ? stepTimes(evs) : wallTimes(evs, t0)));
  return place(cpus, raw);
}

/** pct: step s is [s µs, s+1 µs); the k events of one step on one CPU at s + j/k µs. */
function stepTimes(evs: readonly TraceEvent[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < evs.length; ) {
    let j = i;
    while (j < evs.length && evs[j].t === evs[i].t) j++;
    const k = j - i;
    for (let n = 0; n < k; n++) out.push(evs[i].t * NS_PER_STEP + Math.floor((n * NS_PER_STEP) / k));
    i = j;
  }
  return out;
}

/** stress: microseconds since the epoch, as nanoseconds since t0. */
function wallTimes(evs: readonly TraceEvent[], t0: number): number[] {
  return evs.map((e) => Math.round((e.t - t0) * 1000));
}

/**
 * Place every event at max(its raw time, its CPU's previous event + GAP_NS,
 * the IPI's send + GAP_NS for a taking). Events are placed in raw-time order
 * across CPUs, except that a taking waits for its send: so the send's place
 * is known when the taking is placed. A taking whose send was not recorded
 * waits for nothing.
 */
function place(cpus: readonly TraceEvent[][], raw: readonly number[][]): PlacedEvent[][] {
  const sent = new Set<string>();
  for (const evs of cpus) for (const e of evs) if (e.kind === Ev.IPI_SEND) sent.add(ipiKey(e.cpu, e.b));
  const sendAt = new Map<string, number>();
  const out: PlacedEvent[][] = cpus.map(() => []);
  const next = cpus.map(() => 0);
  const prev = cpus.map(() => -Infinity);
  const waits = (e: TraceEvent): boolean => e.kind === Ev.IPI_HANDLE && sent.has(ipiKey(e.a, e.b)) && !sendAt.has(ipiKey(e.a, e.b));
  for (;;) {
    let pick = -1;
    let fallback = -1;
    for (let c = 0; c < cpus.length; c++) {
      if (next[c] >= cpus[c].length) continue;
      const r = raw[c][next[c]];
      if (fallback < 0 || r < raw[fallback][next[fallback]]) fallback = c;
      if (!waits(cpus[c][next[c]]) && (pick < 0 || r < raw[pick][next[pick]])) pick = c;
    }
    if (fallback < 0) break;
    // Every remaining head waits for a send not yet placed: only possible if a
    // send is recorded after its own taking on one CPU, which the machine never does.
    if (pick < 0) pick = fallback;
    const e = cpus[pick][next[pick]];
    let ns = Math.max(raw[pick][next[pick]], prev[pick] + GAP_NS);
    if (e.kind === Ev.IPI_HANDLE) ns = Math.max(ns, (sendAt.get(ipiKey(e.a, e.b)) ?? -Infinity) + GAP_NS);
    if (e.kind === Ev.IPI_SEND) sendAt.set(ipiKey(e.cpu, e.b), ns);
    out[pick].push({ ...e, ns, width: NS_PER_STEP });
    prev[pick] = ns;
    next[pick]++;
  }
  for (const evs of out) for (let i = 0; i + 1 < evs.length; i++) evs[i].width = evs[i + 1].ns - evs[i].ns;
  return out;
}
