import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Kernel, KernelError, type KernelCommand, gupFastOf, runKernelScript } from '../kernel/index.js';
import { ConfigError } from '../machine/config.js';
import { Cpu } from '../machine/cpu.js';
import { Machine } from '../machine/machine.js';
import { compileWorkload } from '../machine/workload.js';
import { type Combination, type Scenario, machineConfigFor } from './scenario.js';
import { ScenarioError } from './scenario-schema.js';

/**
 * Everything about a run that can be wrong before a thread starts, found in
 * this thread: the kernel CPUs (each must be one the run has), the machine
 * configuration, every CPU's workload, and the coordinator's setup, dry-run
 * on a throwaway machine (a machine too small for the scenario fails here,
 * with the number of frames it has).
 */
export function preflight(s: Scenario, combos: readonly Combination[], cpus: number): void {
  // A kernel CPU the machine does not have would never run its script, and the others would wait for it.
  for (const k of s.kernelCpus ?? []) {
    if (k.cpu >= cpus) {
      const has = cpus === 1 ? '1 CPU (CPU 0)' : `${cpus} CPUs (0 to ${cpus - 1})`;
      throw new ScenarioError(`scenario ${s.name}: kernelCpus: CPU ${k.cpu} runs a kernel script, but the run has ${has}; run it with at least ${k.cpu + 1} CPUs`);
    }
  }
  const seen = new Set<string>();
  let gupFast = false;
  for (const c of combos) {
    if (seen.has(c.hw)) continue;
    seen.add(c.hw);
    const cfg = machineConfigFor(s, c, cpus);
    const machine = Machine.create(cfg);
    for (let c = 1; c < cpus; c++) {
      try {
        const w = s.workload(c, cpus);
        compileWorkload(w, cfg.speculation, machine.layout.vpnLimit);
        if ((w.mix?.gupFast ?? 0) > 0) gupFast = true;
      } catch (e) {
        throw new ScenarioError(`scenario ${s.name}: workload of CPU ${c}: ${(e as Error).message}`);
      }
    }
    const cpu = new Cpu(machine.views, 0);
    const kernel = new Kernel(cpu, { policy: 'linux-6' });
    try {
      runKernelScript(kernel, machine, s.setup.filter((c): c is KernelCommand => c.op !== 'waitSteps' && c.op !== 'spin'), { checkStale: false });
    } catch (e) {
      if (e instanceof KernelError && e.errno === 'ENOMEM') {
        throw new ScenarioError(`scenario ${s.name}: the machine is too small: its ${cfg.frames} frames do not hold the setup (${e.message}); raise machine.frames`);
      }
      if (e instanceof ConfigError) throw e;
      throw new ScenarioError(`scenario ${s.name}: setup fails: ${(e as Error).message}`);
    }
  }
  // After the workloads were found sound above: which kernel runs gup_fast.
  if (gupFast) {
    for (const c of combos) {
      if (gupFastOf(c.arch, c.archOptions) === null) {
        throw new ScenarioError(
          `scenario ${s.name}: its workloads call get_user_pages_fast, which ${c.arch} does not have (that kernel's gup takes mmap_sem and the page-table lock, which smpsim does not model); choose a policy with a lockless gup_fast`,
        );
      }
    }
  }
}

/** Fail now, not after the run, if an output file cannot be written. */
export function checkWritable(path: string): void {
  const dir = dirname(resolve(path));
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    accessSync(dir, constants.W_OK);
    if (existsSync(path) && statSync(path).isDirectory()) throw new Error(`${path} is a directory`);
  } catch (e) {
    throw new ScenarioError(`cannot write ${path}: ${(e as Error).message.replace(/^ENOENT: no such file or directory, stat .*$/, `${dir} does not exist`)}`);
  }
}
