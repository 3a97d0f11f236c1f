import { Access, FlushKind, Which } from '../../machine/constants.js';
import type { Cpu } from '../../machine/cpu.js';
import { C, H, type Layout } from '../../machine/layout.js';
import { downgradeWrite, lockName, mmapLockWord, ptLockWord, ptlWord, readLock, readUnlock, spinLock, spinUnlock, writeLock, writeUnlock } from '../../machine/locks.js';
import type { Machine } from '../../machine/machine.js';
import { ipiPosted, ring } from '../../machine/ipi.js';
import { NO_POLL, waitOnDoorbell } from '../../machine/wait.js';

/**
 * A tiny machine-level script for one CPU thread: the steps tests and
 * self-checks need to stage a race by hand (no kernel model involved).
 * Flags are the machine's scratch words; waits on them keep taking IPIs.
 */
export type ScriptCommand =
  | { op: 'switchMm'; asid: number }
  | { op: 'irq'; on: boolean }
  | { op: 'setFlag'; flag: number; value: number }
  | { op: 'waitFlag'; flag: number; value: number }
  | { op: 'access'; type: 'load' | 'store' | 'fetch'; vpn: number; off?: number; value?: number }
  | { op: 'flush'; kind: 'all' | 'asid' | 'range'; asid?: number; start?: number; end?: number; which?: number; mask?: number | 'cpumask' }
  | { op: 'flushLocal'; kind: 'all' | 'asid' | 'range'; asid?: number; start?: number; end?: number; which?: number }
  | { op: 'syncIpi'; mask: number }
  | { op: 'unmapFree'; asid: number; vpn: number; pages: number; order: 'flush-then-free' | 'free-then-flush' | 'free-no-flush' }
  | { op: 'alloc'; owner: number }
  /** Result: the flag's value now. */
  | { op: 'readFlag'; flag: number }
  /** Wait (without taking it) until an IPI is pending for this CPU. */
  | { op: 'waitPending' }
  /** Execute `steps` empty instruction boundaries (taking IPIs if interrupts are on). */
  | { op: 'spin'; steps: number }
  /** Stall inside a race window for `us` µs, or until an IPI is posted to this CPU (Cpu.stall). Result: the ms it stalled. */
  | { op: 'stall'; us: number }
  | { op: 'stop' }
  /** Take a kernel lock (machine/locks.ts): mmap_lock for read or write, a spinlock with 'spin'. */
  | ({ op: 'lock'; mode: 'read' | 'write' | 'spin' } & ScriptLock)
  | ({ op: 'unlock'; mode: 'read' | 'write' | 'spin' } & ScriptLock)
  /** downgrade_write of mm `asid`'s mmap_lock (held for write by this CPU). */
  | { op: 'downgrade'; asid: number }
  /**
   * Wait until CPU `cpu` waits for the lock (its C.WAIT_FOR names it), or
   * until flag `orFlag` has value `orValue` (so that a CPU that got the lock
   * instead ends the wait). Result: 1 if the CPU waits, 0 if the flag ended it.
   */
  | ({ op: 'waitLockWaiter'; cpu: number; orFlag?: number; orValue?: number } & ScriptLock);

/**
 * A kernel lock as the lock commands name it: 'mmap' (mmap_lock of mm
 * `asid`, a rw lock), 'page_table_lock' (mm `asid`'s) or 'ptl' (the split
 * lock of PTE table frame `frame`).
 */
export interface ScriptLock {
  lock: 'mmap' | 'page_table_lock' | 'ptl';
  asid?: number;
  frame?: number;
}

function lockWord(L: Layout, l: ScriptLock): number {
  const need = (v: number | undefined, what: string): number => {
    if (v === undefined || !Number.isInteger(v) || v < 0) throw new Error(`lock ${l.lock} needs ${what}`);
    return v;
  };
  if (l.lock === 'mmap') return mmapLockWord(L, need(l.asid, 'an asid'));
  if (l.lock === 'page_table_lock') return ptLockWord(L, need(l.asid, 'an asid'));
  if (l.lock === 'ptl') return ptlWord(L, need(l.frame, 'a frame'));
  throw new Error(`unknown lock '${String(l.lock)}'`);
}

function checkMode(L: Layout, l: ScriptLock, mode: string, at: number): void {
  const ok = l.lock === 'mmap' ? mode === 'read' || mode === 'write' : mode === 'spin';
  if (!ok) throw new Error(`${lockName(L, at)} is not taken with mode '${mode}'`);
}

/** The per-command results of a script: access results, frames, wait times (ms). */
export type ScriptResult = (number | null)[];

const ACCESS = { load: Access.LOAD, store: Access.STORE, fetch: Access.FETCH } as const;
const KIND = { all: FlushKind.ALL, asid: FlushKind.ASID, range: FlushKind.RANGE } as const;

function scratch(flag: number): number {
  if (!Number.isInteger(flag) || flag < 0 || flag >= H.SCRATCH_WORDS) throw new Error(`flag ${flag} out of range`);
  return H.SCRATCH + flag;
}

export function runScript(cpu: Cpu, machine: Machine, script: ScriptCommand[]): ScriptResult {
  const i32 = machine.i32;
  const L = machine.layout;
  const out: ScriptResult = [];
  for (const cmd of script) {
    switch (cmd.op) {
      case 'switchMm':
        cpu.switchMm(cmd.asid);
        out.push(null);
        break;
      case 'irq':
        cpu.setIrq(cmd.on);
        out.push(null);
        break;
      case 'setFlag':
        Atomics.store(i32, scratch(cmd.flag), cmd.value);
        for (let c = 0; c < L.cfg.cpus; c++) ring(i32, L, c);
        out.push(null);
        break;
      case 'waitFlag': {
        const at = scratch(cmd.flag);
        const t0 = performance.now();
        // Spinning at instruction boundaries: interrupts are taken if enabled.
        waitOnDoorbell(
          i32,
          L,
          cpu.id,
          () => Atomics.load(i32, at) === cmd.value,
          () => {
            cpu.step++;
            return cpu.pollIpis();
          },
          60_000,
          () => new Error(`CPU ${cpu.id}: flag ${cmd.flag} never became ${cmd.value}`),
          // Under the host-core gate the wait gives its core away (wait.ts), as every wait must.
          cpu.gate,
        );
        out.push(performance.now() - t0);
        break;
      }
      case 'access': {
        cpu.resume();
        cpu.step++;
        out.push(cpu.access(ACCESS[cmd.type], cmd.vpn, cmd.off ?? 0, cmd.value ?? 0));
        cpu.boundary();
        cpu.quiesce();
        break;
      }
      case 'flush':
      case 'flushLocal': {
        const r = { kind: KIND[cmd.kind], asid: cmd.asid ?? cpu.asid, start: cmd.start ?? 0, end: cmd.end ?? 0, which: cmd.which ?? Which.ALL };
        const t0 = performance.now();
        if (cmd.op === 'flushLocal') cpu.flushLocal(r);
        else {
          const mask = cmd.mask === undefined || cmd.mask === 'cpumask' ? machine.cpumask(r.asid) : cmd.mask;
          cpu.flush(r, mask);
        }
        out.push(performance.now() - t0);
        break;
      }
      case 'syncIpi': {
        const t0 = performance.now();
        cpu.syncIpi(cmd.mask);
        out.push(performance.now() - t0);
        break;
      }
      case 'unmapFree': {
        const frames: number[] = [];
        for (let v = cmd.vpn; v < cmd.vpn + cmd.pages; v++) {
          const old = cpu.pt.unmap(cmd.asid, v);
          if (old) frames.push(old & 0xfffff);
        }
        if (cmd.order !== 'flush-then-free') for (const f of frames) cpu.freeFrame(f);
        if (cmd.order !== 'free-no-flush') {
          cpu.flush({ kind: FlushKind.RANGE, asid: cmd.asid, start: cmd.vpn, end: cmd.vpn + cmd.pages, which: Which.DTLB | Which.ITLB }, machine.cpumask(cmd.asid));
        }
        if (cmd.order === 'flush-then-free') for (const f of frames) cpu.freeFrame(f);
        out.push(frames.length);
        break;
      }
      case 'alloc':
        out.push(cpu.alloc.alloc(1, cmd.owner));
        break;
      case 'readFlag':
        out.push(Atomics.load(i32, scratch(cmd.flag)));
        break;
      case 'waitPending':
        waitOnDoorbell(i32, L, cpu.id, () => ipiPosted(i32, L, cpu.id), NO_POLL, 60_000, () => new Error(`CPU ${cpu.id}: no IPI arrived`), cpu.gate);
        out.push(null);
        break;
      case 'stall': {
        const t0 = performance.now();
        cpu.stall(cmd.us);
        out.push(performance.now() - t0);
        break;
      }
      case 'spin':
        cpu.resume();
        for (let i = 0; i < cmd.steps; i++) {
          cpu.step++;
          cpu.pollIpis();
          cpu.boundary();
        }
        cpu.quiesce();
        out.push(null);
        break;
      case 'stop':
        machine.requestStop();
        out.push(null);
        break;
      case 'lock':
      case 'unlock': {
        const at = lockWord(L, cmd);
        checkMode(L, cmd, cmd.mode, at);
        if (cmd.op === 'lock') (cmd.mode === 'read' ? readLock : cmd.mode === 'write' ? writeLock : spinLock)(cpu, at);
        else (cmd.mode === 'read' ? readUnlock : cmd.mode === 'write' ? writeUnlock : spinUnlock)(cpu, at);
        out.push(null);
        break;
      }
      case 'downgrade':
        downgradeWrite(cpu, mmapLockWord(L, cmd.asid));
        out.push(null);
        break;
      case 'waitLockWaiter': {
        const at = lockWord(L, cmd);
        let saw = false;
        const waits = (): boolean => (saw ||= Atomics.load(i32, L.cpu(cmd.cpu, C.WAIT_FOR)) === at + 1);
        const ended = (): boolean => cmd.orFlag !== undefined && Atomics.load(i32, scratch(cmd.orFlag)) === (cmd.orValue ?? 1);
        // Nobody rings for another CPU's wait starting: short sleeps.
        waitOnDoorbell(
          i32,
          L,
          cpu.id,
          () => waits() || ended(),
          () => cpu.pollIpis(),
          60_000,
          () => new Error(`CPU ${cpu.id}: CPU ${cmd.cpu} never waited for ${lockName(L, at)}`),
          cpu.gate,
          0.1,
        );
        out.push(saw ? 1 : 0);
        break;
      }
    }
  }
  return out;
}
