import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { Piscina } from 'piscina';
import { MAX_CPUS } from '../machine/config.js';
import type { Machine } from '../machine/machine.js';
import type { CpuBatch, CpuBatchResult, CpuHost, CpuTask, CpuTaskResult } from './thread/worker-host.js';
import { abortBatch, batchControl, clearBatchControl, stopBatch } from './thread/batch.js';

/**
 * The compiled worker entry point, whether this module runs from src/ (tests)
 * or dist/: the one-file bundle `npm run build` makes of it
 * (tools/bundle-worker.ts: a thread loads it in a third of the time), unless
 * tsc has written the entry again since (a build by `tsc` alone), in which
 * case the bundle may be stale and the modules themselves are loaded.
 */
function workerFile(): string {
  // This file is src/harness/pool.ts or dist/src/harness/pool.js.
  const here = dirname(fileURLToPath(import.meta.url));
  return workerEntry(basename(resolve(here, '../..')) === 'dist' ? resolve(here, '../../..') : resolve(here, '../..'));
}

/** workerFile for the package at `root`. */
export function workerEntry(root: string): string {
  const built = join(root, 'dist/workers/cpu.js');
  if (!existsSync(built)) throw new Error(`worker entry ${built} is missing: run 'npm run build' first`);
  const bundle = join(root, 'dist/workers/cpu.bundle.js');
  return existsSync(bundle) && statSync(bundle).mtimeMs >= statSync(built).mtimeMs ? bundle : built;
}

/** A CPU's worker thread ended while it had work: the pool must be replaced. */
export class CpuThreadDied extends Error {
  constructor(
    readonly cpu: number,
    why: string,
  ) {
    super(`CPU ${cpu}'s worker thread died: ${why}`);
    this.name = 'CpuThreadDied';
  }
}

/**
 * The iteration in progress was abandoned on request (an AbortSignal: Ctrl-C
 * that the iteration did not answer in time). Neither a finding nor a clean
 * iteration: the caller counts nothing of it.
 */
export class IterationAbandoned extends Error {
  constructor() {
    super('the iteration in progress was abandoned');
    this.name = 'IterationAbandoned';
  }
}

/** How a long measurement (a bench) is stopped early: polled between its units; `abort` abandons the unit in progress. */
export interface StopOptions {
  shouldStop?: () => boolean;
  abort?: AbortSignal;
}

/** How long the threads of an abandoned iteration get to leave before they are terminated and replaced. */
export const ABANDON_LEAVE_MS = 1000;

interface Host {
  remote: Comlink.Remote<CpuHost>;
  task: Promise<unknown>;
  threadId: number;
  /**
   * Rejects with CpuThreadDied when the thread ends. Made once per thread: a
   * reaction to `task` made per iteration would pile up for as long as the
   * thread lives.
   */
  died: Promise<never>;
  /** Replaced (replaceThreads): its end is expected, and no business of the machine's any more. */
  retired: boolean;
  /** The thread has ended (the next bind replaces the threads). */
  dead: boolean;
}

/**
 * Warm CPU threads. Each thread is a piscina worker that serves one
 * long-lived task: the comlink control API of a CPU (worker-host.ts). Threads
 * are started once, then re-attached to each new machine and reused for every
 * iteration; only growing the CPU count starts new ones.
 */
export class CpuPool {
  private piscina: Piscina;
  private hosts: Host[] = [];
  private started = 0;
  private closed = false;
  /** The machine the threads were last bound to (what an abandoned iteration aborts). */
  private machine: Machine | null = null;
  /** The words batches of iterations run by (thread/batch.ts); no machine reset touches them. */
  private readonly ctl = batchControl();

  constructor() {
    this.piscina = this.startPiscina();
  }

  private startPiscina(): Piscina {
    const piscina = new Piscina({
      filename: pathToFileURL(workerFile()).href,
      minThreads: 0,
      maxThreads: MAX_CPUS + 1,
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
      atomics: 'disabled',
    });
    piscina.on('workerCreate', () => {
      this.started++;
    });
    return piscina;
  }

  /** Threads started since this pool was created. */
  get threadsStarted(): number {
    return this.started;
  }

  /**
   * Make sure at least n CPU threads are serving. The new threads start
   * together, not one after another: each spends most of its start in its
   * own thread (an isolate, the worker bundle), and 4 threads took 170 ms
   * in turn on the 2-core host.
   */
  private async grow(n: number): Promise<void> {
    const started: Promise<void>[] = [];
    for (let cpu = this.hosts.length; cpu < n; cpu++) {
      const { port1, port2 } = new MessageChannel();
      const task = this.piscina.run({ port: port2 }, { transferList: [port2] as never });
      task.catch(() => {});
      const remote = Comlink.wrap<CpuHost>(nodeEndpoint(port1));
      const died = task.then(
        () => Promise.reject(new CpuThreadDied(cpu, 'its thread exited')),
        (e: unknown) => Promise.reject(new CpuThreadDied(cpu, e instanceof Error ? e.message : String(e))),
      );
      const host: Host = { remote, task, threadId: 0, died, retired: false, dead: false };
      // A thread that dies mid-iteration never answers the others: abort, so that they leave now rather than at a watchdog.
      died.catch(() => {
        host.dead = true;
        if (this.closed || host.retired) return;
        abortBatch(this.ctl);
        this.machine?.abort();
      });
      this.hosts.push(host);
      // A thread that dies while it starts fails the start (it is replaced at the next bind).
      started.push(Promise.race([remote.threadId(), died]).then((id) => void (host.threadId = id)));
    }
    await Promise.all(started);
  }

  /** Bind CPU threads 0..cpus-1 to `machine`. */
  async bind(machine: Machine): Promise<void> {
    if (this.closed) throw new Error('CPU pool is closed');
    const n = machine.config.cpus;
    this.machine = machine;
    // A thread that died (CpuThreadDied) is replaced with the others: the pool stays usable.
    if (this.hosts.some((h) => h.dead)) this.replaceThreads();
    await this.grow(n);
    await Promise.all(this.hosts.slice(0, n).map((h, i) => h.remote.attach(machine.config, machine.sab, i, this.ctl)));
  }

  /**
   * Run tasks[i] on CPU i, all at once; resolves when every one is done.
   * When `abort` fires first, the iteration is abandoned: the machine is
   * aborted (every wait and run loop leaves at its next check), and threads
   * that have not left within ABANDON_LEAVE_MS are terminated and replaced;
   * either way no thread runs on the machine any more when this rejects
   * with IterationAbandoned.
   */
  async run(tasks: CpuTask[], abort?: AbortSignal): Promise<CpuTaskResult[]> {
    if (abort?.aborted) throw new IterationAbandoned();
    // Wait for every CPU to finish, failed or not, so that no thread still
    // runs on the machine when the caller resets it; then report the cause
    // (threads that only gave up because another failed are echoes).
    const all = Promise.allSettled(tasks.map((t, i) => this.guarded(i, t)));
    const settled = abort ? await this.unlessAbandoned(all, abort) : await all;
    const failures = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    if (failures.length) throw failures.find((e) => e?.name !== 'MachineAborted') ?? failures[0];
    return settled.map((r) => (r as PromiseFulfilledResult<CpuTaskResult>).value);
  }

  /**
   * Run batches[i] on CPU i: a batch of stress iterations the threads go
   * through without a message per iteration (thread/batch.ts); the machine
   * is already prepared for the first. Resolves with every thread's batch
   * result. When `abort` fires first, the batch is abandoned: the threads
   * leave and return the iterations they completed (`abandoned` set), or,
   * those that do not leave within ABANDON_LEAVE_MS are terminated and
   * replaced and this rejects with IterationAbandoned, as run does.
   */
  async runBatch(batches: CpuBatch[], abort?: AbortSignal): Promise<CpuBatchResult[]> {
    if (abort?.aborted) throw new IterationAbandoned();
    clearBatchControl(this.ctl);
    const all = Promise.allSettled(batches.map((b, i) => this.guarded(i, b)));
    const settled = abort ? await this.unlessAbandoned(all, abort, true) : await all;
    const failures = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    if (failures.length) throw failures.find((e) => e?.name !== 'MachineAborted') ?? failures[0];
    return settled.map((r) => (r as PromiseFulfilledResult<CpuBatchResult>).value);
  }

  /** Ask the batch in progress (runBatch) to end after its current iteration: it resolves with the iterations done so far. */
  stopBatch(): void {
    stopBatch(this.ctl);
  }

  /**
   * `all`, or IterationAbandoned once `abort` fires (after the threads left or
   * were replaced); with `keep`, threads that left in time return what they
   * have (a batch's completed iterations) instead.
   */
  private async unlessAbandoned<T>(all: Promise<T>, abort: AbortSignal, keep = false): Promise<T> {
    let onAbort!: () => void;
    const aborted = new Promise<'aborted'>((resolve) => abort.addEventListener('abort', (onAbort = () => resolve('aborted')), { once: true }));
    const first = await Promise.race([all, aborted]);
    abort.removeEventListener('abort', onAbort);
    if (first !== 'aborted') return first as T;
    // The batch's word first: a leader resetting the machine meanwhile clears the machine's (thread/batch.ts).
    abortBatch(this.ctl);
    this.machine?.abort();
    let timer: NodeJS.Timeout | undefined;
    const left = await Promise.race([all.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ABANDON_LEAVE_MS).unref()))]);
    clearTimeout(timer);
    if (!left) this.replaceThreads();
    if (left && keep) return all;
    throw new IterationAbandoned();
  }

  /** Terminate every CPU thread (one stuck where no abort reaches it included); the next bind starts fresh ones. */
  private replaceThreads(): void {
    for (const h of this.hosts) {
      h.retired = true;
      h.remote[Comlink.releaseProxy]();
    }
    this.hosts = [];
    const old = this.piscina;
    this.piscina = this.startPiscina();
    old.destroy().catch(() => {});
  }

  /** A CPU's task, failing if its thread dies instead of answering. */
  private guarded(cpu: number, t: CpuTask): Promise<CpuTaskResult>;
  private guarded(cpu: number, t: CpuBatch): Promise<CpuBatchResult>;
  private guarded(cpu: number, t: CpuTask | CpuBatch): Promise<CpuTaskResult | CpuBatchResult> {
    const h = this.hosts[cpu];
    return Promise.race(['role' in t ? h.remote.run(t) : h.remote.runBatch(t), h.died]);
  }

  host(cpu: number): Comlink.Remote<CpuHost> {
    return this.hosts[cpu].remote;
  }

  threadIds(): number[] {
    return this.hosts.map((h) => h.threadId);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A dead thread answers nothing: its end is its answer.
    await Promise.all(this.hosts.map((h) => Promise.race([h.remote.close(), h.died]).catch(() => {})));
    for (const h of this.hosts) h.remote[Comlink.releaseProxy]();
    await this.piscina.destroy();
  }
}
