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
  private readonly piscina: Piscina;
  private readonly hosts: Host[] = [];
  private started = 0;
  private closed = false;

  constructor() {
    this.piscina = new Piscina({
      filename: pathToFileURL(workerFile()).href,
      minThreads: 0,
      maxThreads: MAX_CPUS + 1,
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
      atomics: 'disabled',
    });
    this.piscina.on('workerCreate', () => {
      this.started++;
    });
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
    await this.grow(n);
    await Promise.all(this.hosts.slice(0, n).map((h, i) => h.remote.attach(machine.config, machine.sab, i)));
  }

  /** Run tasks[i] on CPU i, all at once; resolves when every one is done. */
  async run(tasks: CpuTask[]): Promise<CpuTaskResult[]> {
    // Wait for every CPU to finish, failed or not, so that no thread still
    // runs on the machine when the caller resets it; then report the cause
    // (threads that only gave up because another failed are echoes).
    const settled = await Promise.allSettled(tasks.map((t, i) => this.guarded(i, t)));
    const failures = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    if (failures.length) throw failures.find((e) => e?.name !== 'MachineAborted') ?? failures[0];
    return settled.map((r) => (r as PromiseFulfilledResult<CpuTaskResult>).value);
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
