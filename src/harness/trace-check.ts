/**
 * The rules a trace smpsim writes keeps so that Perfetto's JSON importer
 * (and chrome://tracing) shows it whole: every slice, instant and flow
 * arrow where it belongs. docs/trace.md states them in words; the tests run
 * every trace they make through checkTrace.
 *
 * Times are compared as Perfetto reads them: a `ts` or `dur` in µs becomes
 * trunc(µs × 1000) ns, and a slice's end is its start plus its duration so
 * read. Slices are half-open: one that ends at t and one that starts at t do
 * not overlap.
 */

/** The rules, by the name checkTrace's messages start with. */
export const TRACE_RULES = {
  document: 'the file is a JSON object whose traceEvents is an array',
  phase: 'every event has a ph smpsim writes: M (metadata), X (complete slice), B/E (begin/end), i/I (instant), s/t/f (flow)',
  ids: 'every event has an integer pid, and every event but process-wide metadata an integer tid',
  fields: 'every event but metadata has a finite ts >= 0 (µs); an X has a finite dur >= 0; slices and instants have a non-empty name',
  names: 'a process_name metadata event names every pid, a thread_name one every thread with events',
  nesting: 'on each thread, slices (X, and B/E pairs in time order) nest or are disjoint, never partially overlap; every B has its E',
  'instant-scope': 'an instant has scope s of t (thread), p (process) or g (global)',
  'flow-pair': 'each flow (cat, name, id) has one start s and one end f, the end strictly later',
  'flow-binding': "a flow start, and a flow end with bp 'e', lies inside the slice Perfetto binds it to: the last slice on its thread to start before it, none starting at its ts",
  violations: "a violation (cat 'violation') is an instant on the violating CPU's thread (s 't', a named thread)",
  'time-base': 'otherData.timeBase says what a microsecond of the trace is',
} as const;

export type TraceRule = keyof typeof TRACE_RULES;

interface Ev {
  ph?: unknown;
  name?: unknown;
  cat?: unknown;
  pid?: unknown;
  tid?: unknown;
  ts?: unknown;
  dur?: unknown;
  s?: unknown;
  id?: unknown;
  bp?: unknown;
  args?: { name?: unknown };
}

const PHASES = new Set(['M', 'X', 'B', 'E', 'i', 'I', 's', 't', 'f']);
const isInt = (x: unknown): x is number => Number.isInteger(x);
const isTime = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;
const nonEmpty = (x: unknown): x is string => typeof x === 'string' && x.length > 0;
/** Perfetto's reading of a time in µs: whole nanoseconds, truncated. */
export const perfettoNs = (us: number): number => Math.trunc(us * 1000);

interface Slice {
  start: number;
  end: number;
  /** Position in the file: of slices starting together, Perfetto takes them in this order. */
  order: number;
  name: string;
}

/** Every rule `doc` breaks, one message each ("flow-binding: ..."); [] when it keeps them all. */
export function checkTrace(doc: unknown, limit = 50): string[] {
  const problems: string[] = [];
  const fail = (rule: TraceRule, msg: string): void => void (problems.length < limit && problems.push(`${rule}: ${msg}`));
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { traceEvents?: unknown }).traceEvents)) {
    fail('document', 'no traceEvents array');
    return problems;
  }
  const events = (doc as { traceEvents: Ev[] }).traceEvents;
  const timeBase = (doc as { otherData?: { timeBase?: unknown } }).otherData?.timeBase;
  if (!nonEmpty(timeBase)) fail('time-base', 'otherData.timeBase is missing');

  const processNames = new Set<number>();
  const threadNames = new Set<string>();
  const used = new Map<string, string>();
  const slices = new Map<string, Slice[]>();
  const open = new Map<string, { ev: Ev; order: number }[]>();
  const flows = new Map<string, { s: Ev[]; f: Ev[] }>();
  const thread = (e: Ev): string => `${String(e.pid)}/${String(e.tid)}`;
  const add = (key: string, s: Slice): void => void (slices.get(key) ?? slices.set(key, []).get(key)!).push(s);

  // B/E pairs are matched in time order per thread (the order Perfetto sorts them into).
  const order = events.map((e, i) => i).sort((a, b) => (Number(events[a].ts) || 0) - (Number(events[b].ts) || 0) || a - b);
  for (const i of order) {
    const e = events[i];
    const where = `event ${i} (${String(e.ph)} ${typeof e.name === 'string' ? `'${e.name}'` : ''})`;
    if (typeof e.ph !== 'string' || !PHASES.has(e.ph)) {
      fail('phase', `${where}: ph ${JSON.stringify(e.ph)}`);
      continue;
    }
    if (!isInt(e.pid)) fail('ids', `${where}: pid ${JSON.stringify(e.pid)}`);
    const processWide = e.ph === 'M' && e.name === 'process_name';
    const global = (e.ph === 'i' || e.ph === 'I') && (e.s === 'g' || e.s === 'p');
    if (!processWide && !global && !isInt(e.tid)) fail('ids', `${where}: tid ${JSON.stringify(e.tid)}`);
    if (e.ph === 'M') {
      if (e.name === 'process_name' || e.name === 'thread_name') {
        if (!nonEmpty(e.args?.name)) fail('names', `${where}: args.name is not a non-empty string`);
        else if (e.name === 'process_name') processNames.add(e.pid as number);
        else threadNames.add(thread(e));
      }
      continue;
    }
    if (!isTime(e.ts)) {
      fail('fields', `${where}: ts ${JSON.stringify(e.ts)}`);
      continue;
    }
    if (isInt(e.tid)) used.set(thread(e), where);
    if (['X', 'B', 'i', 'I'].includes(e.ph) && !nonEmpty(e.name)) fail('fields', `${where}: no name`);
    const ns = perfettoNs(e.ts);
    switch (e.ph) {
      case 'X':
        if (!isTime(e.dur)) fail('fields', `${where}: dur ${JSON.stringify(e.dur)}`);
        else add(thread(e), { start: ns, end: ns + perfettoNs(e.dur), order: i, name: String(e.name) });
        break;
      case 'B':
        (open.get(thread(e)) ?? open.set(thread(e), []).get(thread(e))!).push({ ev: e, order: i });
        break;
      case 'E': {
        const b = open.get(thread(e))?.pop();
        if (!b) fail('nesting', `${where}: an E with no B open on thread ${thread(e)}`);
        else add(thread(e), { start: perfettoNs(b.ev.ts as number), end: ns, order: b.order, name: String(b.ev.name) });
        break;
      }
      case 'i':
      case 'I':
        if (e.s !== undefined && e.s !== 't' && e.s !== 'p' && e.s !== 'g') fail('instant-scope', `${where}: s ${JSON.stringify(e.s)}`);
        if (e.cat === 'violation' && (e.s !== 't' || !isInt(e.tid))) fail('violations', `${where}: not on a CPU's thread (s ${JSON.stringify(e.s)})`);
        break;
      default: {
        if (e.id === undefined || !nonEmpty(e.cat) || !nonEmpty(e.name)) {
          fail('flow-pair', `${where}: a flow event needs id, cat and name`);
          break;
        }
        const key = `${e.cat}/${e.name}/${String(e.id)}`;
        const f = flows.get(key) ?? flows.set(key, { s: [], f: [] }).get(key)!;
        if (e.ph === 's') f.s.push(e);
        if (e.ph === 'f') f.f.push(e);
      }
    }
  }
  for (const [key, list] of open) if (list.length) fail('nesting', `thread ${key}: ${list.length} B without E ('${String(list[0].ev.name)}' at ${String(list[0].ev.ts)})`);
  for (const pid of new Set([...used.keys()].map((k) => Number(k.split('/')[0])))) if (!processNames.has(pid)) fail('names', `pid ${pid} has no process_name`);
  for (const [key, where] of used) if (!threadNames.has(key)) fail('names', `thread ${key} (first: ${where}) has no thread_name`);

  for (const [key, list] of slices) {
    list.sort((a, b) => a.start - b.start || a.order - b.order);
    checkNesting(key, list, (m) => fail('nesting', m));
  }
  for (const [key, f] of flows) {
    if (f.s.length !== 1 || f.f.length !== 1) {
      fail('flow-pair', `flow ${key}: ${f.s.length} starts and ${f.f.length} ends`);
      continue;
    }
    const [s, end] = [f.s[0], f.f[0]];
    if (perfettoNs(end.ts as number) <= perfettoNs(s.ts as number)) fail('flow-pair', `flow ${key}: ends at ${String(end.ts)}, not after its start at ${String(s.ts)}`);
    if (end.bp !== 'e') fail('flow-binding', `flow ${key}: its end has no bp 'e' (it would bind to the next slice to begin)`);
    for (const e of [s, end]) {
      const m = bindingProblem(slices.get(thread(e)) ?? [], perfettoNs(e.ts as number));
      if (m) fail('flow-binding', `flow ${key}: its ${e.ph === 's' ? 'start' : 'end'} at ${String(e.ts)} on thread ${thread(e)}: ${m}`);
    }
  }
  return problems;
}

/** Slices sorted by start (then file order): each must end within whatever encloses it. */
function checkNesting(key: string, list: readonly Slice[], fail: (m: string) => void): void {
  const stack: Slice[] = [];
  for (const s of list) {
    while (stack.length && stack[stack.length - 1].end <= s.start) stack.pop();
    const top = stack[stack.length - 1];
    if (top && s.end > top.end) fail(`thread ${key}: '${s.name}' [${s.start}, ${s.end}) ns overlaps '${top.name}' [${top.start}, ${top.end}) ns without nesting in it`);
    else stack.push(s);
  }
}

/** Why a flow event at `ns` would not bind to a slice that contains it (Perfetto binds to the slice last begun), or null. */
function bindingProblem(list: readonly Slice[], ns: number): string | null {
  let last: Slice | undefined;
  for (const s of list) {
    if (s.start === ns) return `a slice ('${s.name}') starts at the same instant`;
    if (s.start < ns) last = s;
  }
  if (!last) return 'no slice on its thread begins before it';
  if (last.end <= ns) return `the slice last begun before it ('${last.name}') ends at ${last.end} ns, before it`;
  return null;
}
