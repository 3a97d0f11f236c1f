/** The recorded events of one iteration, decoded, merged in time order, and as text. */
import { createHash } from 'node:crypto';
import { EV_FIELDS, Ev } from '../machine/recorder.js';
import { eventText } from './story.js';

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

/** One line of text per event (the replay story's wording, story.ts). */
export function describeEvent(e: TraceEvent): string {
  return eventText(e);
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

