import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { Piscina } from 'piscina';
import { MAX_CPUS } from '../machine/config.js';
import type { Machine } from '../machine/machine.js';
import type { CpuHost, CpuTask, CpuTaskResult } from './thread/worker-host.js';

/** The compiled worker entry point, whether this module runs from src/ (tests) or dist/. */
function workerFile(): string {
  // This file is src/harness/pool.ts or dist/src/harness/pool.js.
  const here = dirname(fileURLToPath(import.meta.url));
  const root = basename(resolve(here, '../..')) === 'dist' ? resolve(here, '../../..') : resolve(here, '../..');
  const built = join(root, 'dist/workers/cpu.js');
  if (!existsSync(built)) throw new Error(`worker entry ${built} is missing: run 'npm run build' first`);
  return built;
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

  /** Make sure at least n CPU threads are serving. */
  private async grow(n: number): Promise<void> {
    while (this.hosts.length < n) {
      const { port1, port2 } = new MessageChannel();
      const task = this.piscina.run({ port: port2 }, { transferList: [port2] as never });
      task.catch(() => {});
      const remote = Comlink.wrap<CpuHost>(nodeEndpoint(port1));
      const threadId = await remote.threadId();
      this.hosts.push({ remote, task, threadId });
    }
  }

  /** Bind CPU threads 0..cpus-1 to `machine`. */
  async bind(machine: Machine): Promise<void> {
    if (this.closed) throw new Error('CPU pool is closed');
    const n = machine.config.cpus;
    this.machine = machine;
    await this.grow(n);
    await Promise.all(this.hosts.slice(0, n).map((h, i) => h.remote.attach(machine.config, machine.sab, i)));
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

  /** `all`, or IterationAbandoned once `abort` fires (after the threads left or were replaced). */
  private async unlessAbandoned<T>(all: Promise<T>, abort: AbortSignal): Promise<T> {
    let onAbort!: () => void;
    const aborted = new Promise<'aborted'>((resolve) => abort.addEventListener('abort', (onAbort = () => resolve('aborted')), { once: true }));
    const first = await Promise.race([all, aborted]);
    abort.removeEventListener('abort', onAbort);
    if (first !== 'aborted') return first as T;
    this.machine?.abort();
    let timer: NodeJS.Timeout | undefined;
    const left = await Promise.race([all.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ABANDON_LEAVE_MS).unref()))]);
    clearTimeout(timer);
    if (!left) this.replaceThreads();
    throw new IterationAbandoned();
  }

  /** Terminate every CPU thread (one stuck where no abort reaches it included); the next bind starts fresh ones. */
  private replaceThreads(): void {
    for (const h of this.hosts) h.remote[Comlink.releaseProxy]();
    this.hosts = [];
    const old = this.piscina;
    this.piscina = this.startPiscina();
    old.destroy().catch(() => {});
  }

  /** A CPU's task, failing if its thread dies instead of answering. */
  private guarded(cpu: number, t: CpuTask): Promise<CpuTaskResult> {
    const h = this.hosts[cpu];
    const died = h.task.then(
      () => Promise.reject(new CpuThreadDied(cpu, 'its thread exited')),
      (e: unknown) => Promise.reject(new CpuThreadDied(cpu, e instanceof Error ? e.message : String(e))),
    );
    return Promise.race([h.remote.run(t), died]);
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
    await Promise.all(this.hosts.map((h) => h.remote.close().catch(() => {})));
    for (const h of this.hosts) h.remote[Comlink.releaseProxy]();
    await this.piscina.destroy();
  }
}
