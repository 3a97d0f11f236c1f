import { threadId } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { MachineConfig } from '../../machine/config.js';
import { Cpu } from '../../machine/cpu.js';
import type { CoreGate } from '../../machine/cores.js';
import { Machine, type CpuCounters } from '../../machine/machine.js';
import { wallMicros } from '../../machine/recorder.js';
import { CPU_OP_NAMES } from '../../machine/constants.js';
import { MachineAborted } from '../../machine/sync.js';
import type { TlbEntry } from '../../machine/tlb.js';
import { getRole } from './roles.js';
import { type IterationSnapshot, abandoned, awaitIteration, batchGate, awaitOthers, iterationDone, snapshot, startNext, stopRequested } from './batch.js';
import './builtin-roles.js';

/** One iteration's work for a CPU thread. */
export interface CpuTask {
  role: string;
  args?: unknown;
  /** Wait at the machine's start barrier for this many threads before the role runs. */
  barrier?: number;
  /** Record this CPU's events (a traced iteration): stamped with gate steps or wall-clock microseconds. */
  record?: 'steps' | 'wall';
}

/** A batch of stress iterations for one CPU thread (batch.ts): its task in each, in order. */
export interface CpuBatch {
  tasks: CpuTask[];
  /** CPU 0's thread (the leader) only: each iteration's number and seed, and the host-core gate's tokens. */
  iterations?: { it: number; seed: number }[];
  coreTokens?: number;
  /** The leader ends the batch after the first iteration that logged a violation. */
  stopAtFirst?: boolean;
}

/** What a batch left: this thread's result of each iteration it completed, and (the leader) each one's snapshot. */
export interface CpuBatchResult {
  results: CpuTaskResult[];
  snapshots: IterationSnapshot[];
  /** The harness abandoned the batch: the lists hold the iterations completed before. */
  abandoned: boolean;
}

export interface CpuTaskResult {
  cpu: number;
  result: unknown;
  steps: number;
  /** Recorded events (flat, see machine/recorder.ts), when the task asked for them. */
  events?: number[];
}

/**
 * The control API of one CPU thread, exposed with comlink. Control only:
 * attach to a machine, run a task, read counters and caches. Everything on
 * the hot paths goes through the shared buffer.
 */
export class CpuHost {
  private machine: Machine | null = null;
  private cpu: Cpu | null = null;
  /** The pool's batch control words (batch.ts). */
  private ctl: Int32Array | null = null;
  private closeResolve!: () => void;
  readonly closed = new Promise<void>((r) => (this.closeResolve = r));

  /** Bind this thread to CPU `id` of the machine in `sab`; `ctl` holds the pool's batch control words. */
  attach(config: MachineConfig, sab: SharedArrayBuffer, id: number, ctl: Int32Array | null = null): number {
    this.machine = Machine.attach(config, sab);
    this.ctl = ctl;
    this.cpu = new Cpu(this.machine.views, id);
    return threadId;
  }

  /**
   * Run one task to completion, synchronously in this thread. `cores`: the
   * host-core gate of the batch this task is an iteration of, which the
   * thread keeps when the task ends (batch.ts batchGate).
   */
  run(task: CpuTask, cores?: CoreGate): CpuTaskResult {
    const machine = this.machine;
    if (!machine) throw new Error('CPU thread is not attached to a machine');
    // A fresh Cpu object per task: the machine was reset in place, and the
    // object's cached state (current mm, interrupts, epoch) must follow.
    const cpu = (this.cpu = new Cpu(machine.views, this.cpu!.id, cores));
    const gate = cpu.gate;
    const rec = task.record ? cpu.startRecording(task.record === 'steps' ? () => gate.step : wallMicros) : null;
    try {
      if (task.barrier) {
        // A gated stress run: from here on, a host core is needed to execute (cores.ts), the barrier included.
        cpu.cores.enter();
        machine.barrier(task.barrier, undefined, gate);
        // A controlled run starts at the barrier: from here on, turns.
        gate.enter();
      }
      const result = getRole(task.role)(cpu, machine, task.args);
      gate.finish();
      return { cpu: cpu.id, result, steps: cpu.step, events: rec?.data };
    } catch (e) {
      // Wake every thread waiting on this one, then report: which CPU, at
      // which step, doing what. A thread that only gave up because another
      // failed says so, so the harness can tell the cause from the echoes.
      machine.abort();
      throw describeFailure(e, cpu);
    } finally {
      if (cores === undefined) cpu.cores.leave();
      cpu.quiesce();
    }
  }

  /**
   * Run a batch of stress iterations, going from one to the next through the
   * pool's control words rather than messages (the protocol: batch.ts).
   */
  runBatch(b: CpuBatch): CpuBatchResult {
    const machine = this.machine;
    const ctl = this.ctl;
    if (!machine || !ctl) throw new Error('CPU thread is not attached to a machine with batch control');
    const leader = this.cpu!.id === 0;
    const others = machine.config.cpus - 1;
    const out: CpuBatchResult = { results: [], snapshots: [], abandoned: false };
    const kept = batchGate(machine, this.cpu!.id);
    try {
      for (let j = 0; j < b.tasks.length; j++) {
        if (j > 0 && !leader && !awaitIteration(ctl, machine, j, kept?.gate)) break;
        out.results.push(this.run(b.tasks[j], kept?.cores));
        if (!leader) {
          iterationDone(ctl);
          continue;
        }
        awaitOthers(ctl, machine, others, kept?.gate);
        const snap = snapshot(machine);
        out.snapshots.push(snap);
        const last = j + 1 === b.tasks.length || (b.stopAtFirst === true && snap.violations.total > 0) || stopRequested(ctl);
        const next = b.iterations![j + 1];
        startNext(ctl, machine, j + 1, last ? null : { it: next.it, seed: next.seed, coreTokens: b.coreTokens ?? 0 });
        if (last) break;
      }
    } catch (e) {
      if (!(e instanceof MachineAborted && abandoned(ctl))) throw e;
      out.abandoned = true;
    } finally {
      kept?.cores.leave();
    }
    return out;
  }

  counters(): CpuCounters {
    return this.machine!.counters(this.cpu!.id);
  }

  caches(): TlbEntry[] {
    return this.machine!.caches(this.cpu!.id);
  }

  threadId(): number {
    return threadId;
  }

  close(): void {
    this.closeResolve();
  }
}

/**
 * The error a CPU thread reports: comlink carries only name and message
 * across, so the CPU, step and operation go into both.
 */
function describeFailure(e: unknown, cpu: Cpu): Error {
  const err = e instanceof Error ? e : new Error(String(e));
  if (err instanceof MachineAborted) return err;
  const op = CPU_OP_NAMES[cpu.op] ?? `op ${cpu.op}`;
  const kop = cpu.kernelOp();
  const doing = kop ? `${op}, kernel op ${kop}` : op;
  // The watchdog's own message already names the CPUs and the operation.
  const own = err.name === 'IpiTimeoutError' || err.name === 'DeadlockError';
  const out = new Error(own ? err.message : `CPU ${cpu.id} failed at step ${cpu.step} (${doing}): ${err.name === 'Error' ? '' : `${err.name}: `}${err.message}`);
  out.name = own ? err.name : 'CpuFailure';
  out.stack = `${out.name}: ${out.message}\n${err.stack ?? ''}`;
  return out;
}

/**
 * What serve needs of its port, a node:worker_threads MessagePort. Declared
 * by shape rather than imported from 'node:worker_threads' because this
 * module's types are part of smpsim's published declarations, which must
 * compile in a project without @types/node.
 */
export interface ControlPort {
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  on(type: string, listener: (value: unknown) => void): unknown;
  off(type: string, listener: (value: unknown) => void): unknown;
  start?(): void;
  close(): void;
}

/** Piscina task: serve the control API on `port` until close(). */
export default async function serve({ port }: { port: ControlPort }): Promise<void> {
  const host = new CpuHost();
  Comlink.expose(host, nodeEndpoint(port));
  await host.closed;
  // Let comlink post close()'s own reply before the port goes.
  await new Promise((r) => setImmediate(r));
  port.close();
}
