import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Kernel, KernelError, type KernelCommand, runKernelScript } from '../kernel/index.js';
import { ConfigError } from '../machine/config.js';
import { Cpu } from '../machine/cpu.js';
import { Machine } from '../machine/machine.js';
import { compileWorkload } from '../machine/workload.js';
import { type Scenario, machineConfigFor } from './scenario.js';
import { ScenarioError } from './scenario-schema.js';

/**
 * Everything about a run that can be wrong before a thread starts, found in
 * this thread: the machine configuration, every CPU's workload, and the
 * coordinator's setup, dry-run on a throwaway machine (a machine too small
 * for the scenario fails here, with the number of frames it has).
 */
export function preflight(s: Scenario, hws: string[], cpus: number): void {
  for (const hw of hws) {
    const cfg = machineConfigFor(s, hw, cpus);
    const machine = Machine.create(cfg);
    for (let c = 1; c < cpus; c++) {
      try {
        compileWorkload(s.workload(c, cpus), cfg.speculation, machine.layout.vpnLimit);
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
