import { writeFileAtomic } from './output-file.js';
import { type TraceMeta, toChromeTrace } from './chrome-trace.js';

/**
 * Traces of one iteration: the recorded events as text (trace-events.ts,
 * what `smpsim replay` prints) and as Trace Event Format JSON for Perfetto
 * (chrome-trace.ts; its rules in docs/trace.md, checked by trace-check.ts).
 */
export { type TraceEvent, describeEvent, eventsHash, interleavingText, mergeEvents } from './trace-events.js';
export { type ChromeEvent, type ChromeTrace, type TraceMeta, toChromeTrace } from './chrome-trace.js';

/**
 * Write one iteration's trace (each CPU's recorded events, as
 * CombinationRunner.iteration returns them with `record`) to `path`,
 * atomically: a temporary file beside it, then rename.
 */
export function writeTrace(path: string, perCpu: number[][], meta: TraceMeta): void {
  writeFileAtomic(path, JSON.stringify(toChromeTrace(perCpu, meta)));
}
