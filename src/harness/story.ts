import { kernelOpName, stepArg, stepOf } from '../kernel/index.js';
import { FLUSH_KIND_NAMES, FRAME_KIND_NAMES, FlushKind, VIOLATION_KIND_NAMES, Which } from '../machine/constants.js';
import { Ev } from '../machine/recorder.js';
import { PAGE_SHIFT, type ViolationReport } from './report.js';
import type { TraceEvent } from './trace.js';

/**
 * The story of a replayed violation: what a reader needs to see why it
 * happened, each line stamped with the gate step (the counter the violation
 * line prints too). Kept: every kernel action (the calls, their steps, the
 * frames they free, the flushes and which caches each covered), every IPI
 * and its acknowledgement, the interrupts of the violating CPU, and that
 * CPU's accesses, fills and walks of the violating address; then the
 * violation. Runs of routine kernel steps that touch neither the victim
 * frame nor the violating address (zapping the other pages of a range) fold
 * into one line, as do repeats of one line. The setup, which runs before
 * the gate starts (step 0), is one line.
 */

/** What the story needs of the machine to say which caches a flush covered. */
export interface StoryMachine {
  /** Walk-cache entries per CPU (0: the hardware has none). */
  walkCache: number;
  /** A leaf (range) invalidation drops the walk-cache entries whose span it meets. */
  leafDropsWalkCache: boolean;
}

const ACCESS_NAMES = ['load', 'store', 'fetch'];
const RESULT_NAMES = ['ok', 'fault', 'VIOLATION'];
const addr = (vpn: number): string => `0x${(vpn * 2 ** PAGE_SHIFT).toString(16)}`;
const frameKind = (k: number): string => FRAME_KIND_NAMES[k] ?? `kind ${k}`;

/** A kernel op and its argument, the argument printed as what it is (ops.ts stepArg). */
function kernelText(op: number, arg: number): string {
  const name = kernelOpName(op);
  switch (stepArg(op)) {
    case 'frame':
      return `${name} frame ${arg}`;
    case 'asid':
      return `${name} (address space ${arg})`;
    case 'index':
      return `${name} page ${arg} of the file`;
    case 'none':
      return name;
    case 'number':
      return `${name} ${arg}`;
    default:
      return `${name} ${addr(arg)}`;
  }
}

/** "D-TLB, I-TLB and walk cache" for a flush request's Which bits and kind, on this machine. */
export function cachesText(kind: number, which: number, m: StoryMachine): string {
  if (kind === FlushKind.SYNC) return 'no cache (a synchronising IPI)';
  const parts: string[] = [];
  if (which & (Which.DTLB | Which.WALK)) parts.push('D-TLB');
  if (which & Which.ITLB) parts.push('I-TLB');
  if (m.walkCache > 0 && which & (Which.DTLB | Which.ITLB | Which.WALK)) {
    if (kind !== FlushKind.RANGE || which & Which.WALK) parts.push('walk cache');
    else if (m.leafDropsWalkCache) parts.push('walk cache (leaf invalidate; this hardware drops the entries spanning it)');
    else parts.push('not the walk cache (leaf invalidate)');
  }
  return parts.length ? parts.join(', ') : 'nothing';
}

/**
 * One line of text for an event (the trace's text too: trace-events.ts
 * describeEvent). `which` is the caches a FLUSH covered (from its
 * FLUSH_DONE), when known, and `m` the machine that tells what they hold.
 */
export function eventText(e: TraceEvent, m?: StoryMachine, which?: number): string {
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
      return `gup_fast: ${gupText(e.a, addr(e.b))}${e.c ? ' (walk ends)' : ''}`;
    case Ev.KERNEL_OP:
      return e.a ? `kernel: ${kernelText(e.a, e.b)}` : 'kernel: return';
    case Ev.FREE:
      return `free frame ${e.a} (${frameKind(e.b)})`;
    case Ev.ALLOC:
      return `allocate frame ${e.a} as ${frameKind(e.b)}`;
    case Ev.FLUSH: {
      const span = e.a === FlushKind.RANGE ? ` [${addr(e.b)}, ${addr(e.c)})` : '';
      return `flush ${FLUSH_KIND_NAMES[e.a]}${span}${which === undefined || m === undefined ? '' : ` of ${cachesText(e.a, which, m)}`}`;
    }
    case Ev.FLUSH_DONE:
      return 'flush complete';
    case Ev.VIOLATION:
      return `VIOLATION ${VIOLATION_KIND_NAMES[e.a]} at ${addr(e.b)}, frame ${e.c}`;
    default:
      return `event ${e.kind}`;
  }
}

function gupText(step: number, address: string): string {
  if (step === 0) return `reference the page at ${address}`;
  if (step === 4) return `re-read pmd and PTE of ${address}`;
  if (step === 5) return `back off at ${address} (reference failed or entry changed)`;
  return `read level-${step} table for ${address}`;
}

/** The caches each FLUSH covered: its CPU's next FLUSH_DONE carries them. */
function flushCaches(events: TraceEvent[]): Map<TraceEvent, number> {
  const out = new Map<TraceEvent, number>();
  const open = new Map<number, TraceEvent[]>();
  for (const e of events) {
    if (e.kind === Ev.FLUSH) open.set(e.cpu, [...(open.get(e.cpu) ?? []), e]);
    else if (e.kind === Ev.FLUSH_DONE) {
      const f = open.get(e.cpu)?.pop();
      if (f) out.set(f, e.b);
    }
  }
  return out;
}

const line = (t: number | string, cpu: number, text: string): string => `${typeof t === 'string' ? 'steps' : 'step '} ${String(t).padStart(7)}  CPU ${cpu}  ${' '.repeat(cpu * 2)}${text}`;

/** Every event, one line each (`smpsim replay --full`), up to the first violation. */
export function fullText(events: TraceEvent[], m: StoryMachine): string[] {
  const caches = flushCaches(events);
  const v = events.findIndex((e) => e.kind === Ev.VIOLATION);
  return events.slice(0, v < 0 ? events.length : v + 1).map((e) => line(e.t, e.cpu, eventText(e, m, caches.get(e))));
}

/** Kernel steps that repeat once per page of a range: folded into one line when they touch nothing of the victim's. */
const ROUTINE_STEPS = new Set(['unmap_vmas', 'tlb_remove_tlb_entry', 'tlb_remove_page', 'move_page_tables', 'fault_in', 'truncate_inode_pages', 'collapse_copy']);

function isRoutine(e: TraceEvent): boolean {
  if (e.kind === Ev.FREE || e.kind === Ev.ALLOC) return true;
  return e.kind === Ev.KERNEL_OP && e.a !== 0 && ROUTINE_STEPS.has(kernelOpName(e.a).split('/')[1] ?? '');
}

/** "3-9, 12" for a list of frames. */
function ranges(xs: number[]): string {
  const s = [...new Set(xs)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    out.push(i === j ? String(s[i]) : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return out.join(', ');
}

/** One line for a folded run of routine kernel events. */
function foldedText(run: TraceEvent[]): string {
  const ops = new Map<string, number>();
  const freed: number[] = [];
  const freedKinds = new Set<string>();
  const allocated: number[] = [];
  for (const e of run) {
    if (e.kind === Ev.KERNEL_OP) ops.set(kernelOpName(e.a), (ops.get(kernelOpName(e.a)) ?? 0) + 1);
    else if (e.kind === Ev.FREE) {
      freed.push(e.a);
      freedKinds.add(frameKind(e.b));
    } else allocated.push(e.a);
  }
  const parts = [[...ops].map(([op, n]) => `${op} ×${n}`).join(', ')];
  if (freed.length) parts.push(`free ${freed.length} frame${freed.length > 1 ? 's' : ''} ${ranges(freed)} (${[...freedKinds].join(', ')})`);
  if (allocated.length) parts.push(`allocate ${allocated.length} frame${allocated.length > 1 ? 's' : ''} ${ranges(allocated)}`);
  return `kernel: ${parts.filter(Boolean).join('; ')} (other pages)`;
}

/**
 * The story of the first violation of a replayed iteration (see the header).
 * Returns the lines, or the last events' lines when there is no violation.
 */
export function storyText(events: TraceEvent[], v: ViolationReport | undefined, m: StoryMachine): string[] {
  if (!v) return fullText(events, m).slice(-40);
  // A stale-after-return finding is recorded by the returning call, with no VIOLATION event: the story ends at its step.
  const end = events.findIndex((e) => e.kind === Ev.VIOLATION && e.cpu === v.cpu && e.b === v.vpn && e.c === v.frame);
  const upTo = end >= 0 ? events.slice(0, end + 1) : events.filter((e) => e.t <= v.step);
  const caches = flushCaches(upTo);
  const setup = upTo.filter((e) => e.t === 0);
  const run = upTo.filter((e) => e.t > 0);
  // The violating address, and every address the violating CPU filled a translation to the victim frame for.
  const vpns = new Set([v.vpn, ...run.filter((e) => e.cpu === v.cpu && e.kind === Ev.FILL && e.c === v.frame).map((e) => e.b)]);
  const touchesVictim = (e: TraceEvent): boolean => {
    if (e.kind === Ev.FREE || e.kind === Ev.ALLOC) return e.a === v.frame;
    if (e.kind !== Ev.KERNEL_OP || e.a === 0) return false;
    const kind = stepArg(e.a);
    return kind === 'frame' ? e.b === v.frame : kind === 'vpn' ? vpns.has(e.b) : false;
  };
  const vpnOf = (e: TraceEvent): number | null => (e.kind === Ev.ACCESS || e.kind === Ev.FILL || e.kind === Ev.GUP ? e.b : e.kind === Ev.SPEC_WALK ? e.a : null);
  const firstKernel = run.find((e) => e.kind === Ev.KERNEL_OP)?.t ?? Infinity;
  // The violating CPU's own events on the violating addresses; before the first kernel call only the fill
  // that gave it the translation it held, and its last use of it.
  const own = run.filter((e) => e.cpu === v.cpu && vpnOf(e) !== null && vpns.has(vpnOf(e)!));
  const before = own.filter((e) => e.t < firstKernel);
  const held = new Set([before.filter((e) => e.kind === Ev.FILL).at(-1), before.at(-1)].filter((e) => e !== undefined));
  const keep = (e: TraceEvent): boolean => {
    switch (e.kind) {
      case Ev.KERNEL_OP:
      case Ev.FREE:
      case Ev.ALLOC:
      case Ev.FLUSH:
      case Ev.FLUSH_DONE:
      case Ev.IPI_SEND:
      case Ev.IPI_HANDLE:
      case Ev.VIOLATION:
        return true;
      case Ev.IRQ:
        return e.cpu === v.cpu;
      default:
        return e.cpu === v.cpu && vpns.has(vpnOf(e) ?? -1) && (e.t >= firstKernel || held.has(e));
    }
  };
  const kept = run.filter(keep);
  const out: string[] = [];
  if (setup.length) {
    const calls = [...new Set(setup.filter((e) => e.kind === Ev.KERNEL_OP && e.a !== 0 && stepOf(e.a) === 0).map((e) => kernelOpName(e.a)))];
    const allocs = setup.filter((e) => e.kind === Ev.ALLOC).length;
    out.push(line(0, 0, `setup before the run: ${calls.join(', ') || 'kernel calls'}${allocs ? `; ${allocs} frames allocated` : ''}`));
  }
  if (own.length === 0) out.push(`(CPU ${v.cpu} made no recorded access to ${addr(v.vpn)} before the violation: its walker reached the frame on its own)`);
  let prev = '';
  let repeat = 0;
  const flushRepeat = (): void => {
    if (repeat > 0) out[out.length - 1] += ` (×${repeat + 1})`;
    repeat = 0;
  };
  const push = (t: number | string, cpu: number, text: string): void => {
    const key = `${cpu} ${text}`;
    if (key === prev) {
      repeat++;
      return;
    }
    flushRepeat();
    prev = key;
    out.push(line(t, cpu, text));
  };
  for (let i = 0; i < kept.length; ) {
    const e = kept[i];
    if (isRoutine(e) && !touchesVictim(e)) {
      let j = i;
      while (j + 1 < kept.length && kept[j + 1].cpu === e.cpu && isRoutine(kept[j + 1]) && !touchesVictim(kept[j + 1])) j++;
      if (j - i + 1 >= 3) {
        push(`${kept[i].t}-${kept[j].t}`, e.cpu, foldedText(kept.slice(i, j + 1)));
        i = j + 1;
        continue;
      }
    }
    push(e.t, e.cpu, eventText(e, m, caches.get(e)));
    i++;
  }
  flushRepeat();
  if (end < 0) out.push(line(v.step, v.cpu, `VIOLATION ${v.kind} at ${v.address}, frame ${v.frame}${v.call ? ` (after ${v.call.op} on CPU ${v.call.cpu} returned)` : ''}`));
  return out;
}
