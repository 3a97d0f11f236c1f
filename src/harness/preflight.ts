import { Kernel, KernelError, type KernelCommand, gupFastOf, runKernelScript } from '../kernel/index.js';
import { ConfigError } from '../machine/config.js';
import { Cpu } from '../machine/cpu.js';
import { Machine } from '../machine/machine.js';
import { compileWorkload } from '../machine/workload.js';
import { type Combination, type CoordinatorCommand, type Scenario, machineConfigFor, runsWorkload } from './scenario.js';
import { ScenarioError } from './scenario-schema.js';
import { workloadProblem } from './workload-schema.js';

/**
 * Everything about a run that can be wrong before a thread starts, found in
 * this thread: the kernel CPUs (each must be one the run has), the machine
 * configuration, every CPU's workload (strict: its shape, and only address
 * spaces the setup created), every address space a kernel command names,
 * and the coordinator's setup, dry-run on a throwaway machine (a machine too
 * small for the scenario fails here, with the number of frames it has), then
 * its script too when it is the only kernel CPU (with several, the order of
 * their calls is the race's, not known beforehand). A bad scenario must never
 * become a finding, nor a CPU failing mid-run.
 */
export function preflight(s: Scenario, combos: readonly Combination[], cpus: number): void {
  // A kernel CPU the machine does not have would never run its script, and the others would wait for it.
  for (const k of s.kernelCpus ?? []) {
    if (k.cpu >= cpus) {
      const has = cpus === 1 ? '1 CPU (CPU 0)' : `${cpus} CPUs (0 to ${cpus - 1})`;
      throw new ScenarioError(`scenario ${s.name}: kernelCpus: CPU ${k.cpu} runs a kernel script, but the run has ${has}; run it with at least ${k.cpu + 1} CPUs`);
    }
  }
  const kernelOnly = (cmds: readonly CoordinatorCommand[]): KernelCommand[] => cmds.filter((c): c is KernelCommand => !['waitSteps', 'spin', 'waitPoint', 'holdPoint'].includes(c.op));
  // Every address space a command names must be created by some createMm.
  const scripts: [string, readonly CoordinatorCommand[]][] = [['setup', s.setup], ['script', s.script], ...(s.kernelCpus ?? []).map((k, i): [string, readonly CoordinatorCommand[]] => [`kernelCpus[${i}].script`, k.script])];
  const created = new Set(scripts.flatMap(([, cmds]) => cmds.flatMap((c) => (c.op === 'createMm' ? [c.asid] : []))));
  for (const [where, cmds] of scripts) {
    cmds.forEach((c, j) => {
      if ('asid' in c && typeof c.asid === 'number' && c.op !== 'createMm' && !created.has(c.asid)) {
        throw new ScenarioError(`scenario ${s.name}: ${where}[${j}]: ${c.op} names address space ${c.asid}, which no createMm creates (created: ${[...created].join(', ') || 'none'})`);
      }
    });
  }
  const seen = new Set<string>();
  let gupFast = false;
  for (const c of combos) {
    if (seen.has(c.hw)) continue;
    seen.add(c.hw);
    const cfg = machineConfigFor(s, c, cpus);
    // Every file a command names must be a slot the machine has, and fit its pages (mmap, truncate).
    for (const [where, cmds] of scripts) {
      cmds.forEach((cmd, j) => {
        if (!('file' in cmd) || typeof cmd.file !== 'number') return;
        if (cmd.file >= cfg.files) throw new ScenarioError(`scenario ${s.name}: ${where}[${j}]: ${cmd.op} names file ${cmd.file}, but the machine has ${cfg.files} file slots (machine.files)`);
        const last = cmd.op === 'truncate' ? cmd.pages : cmd.op === 'mmap' ? (cmd.pgoff ?? 0) + cmd.pages : 0;
        if (last > cfg.filePages) throw new ScenarioError(`scenario ${s.name}: ${where}[${j}]: ${cmd.op} reaches page ${last} of file ${cmd.file}, past the ${cfg.filePages} pages a file has (machine.filePages)`);
      });
    }
    const machine = Machine.create(cfg);
    const workloads: [number, { spaces: number[] }][] = [];
    for (let c = 1; c < cpus; c++) {
      if (!runsWorkload(s, c)) continue;
      try {
        const w = s.workload(c, cpus);
        const problem = workloadProblem(w);
        if (problem) throw new ConfigError(problem);
        compileWorkload(w, cfg.speculation, machine.layout.vpnLimit);
        if ((w.mix?.gupFast ?? 0) > 0) gupFast = true;
        workloads.push([c, w]);
      } catch (e) {
        throw new ScenarioError(`scenario ${s.name}: workload of CPU ${c}: ${(e as Error).message}`);
      }
    }
    const cpu = new Cpu(machine.views, 0);
    const kernel = new Kernel(cpu, { policy: 'linux-6' });
    try {
      runKernelScript(kernel, machine, kernelOnly(s.setup), { checkStale: false });
    } catch (e) {
      if (e instanceof KernelError && e.errno === 'ENOMEM') {
        throw new ScenarioError(`scenario ${s.name}: the machine is too small: its ${cfg.frames} frames do not hold the setup (${e.message}); raise machine.frames`);
      }
      if (e instanceof ConfigError) throw e;
      throw new ScenarioError(`scenario ${s.name}: setup fails: ${(e as Error).message}`);
    }
    // Workloads start after the setup: every space they run must exist by then (a CPU running a
    // space that does not exist would walk a pgd that is no page table at all).
    for (const [c, w] of workloads) {
      w.spaces.forEach((asid, i) => {
        if (asid >= cfg.addressSpaces || !cpu.pt.isLive(asid)) {
          const live = Array.from({ length: cfg.addressSpaces }, (_, a) => a).filter((a) => cpu.pt.isLive(a));
          throw new ScenarioError(`scenario ${s.name}: workload of CPU ${c}: spaces[${i}]: address space ${asid} does not exist when the workloads start (the setup creates: ${live.join(', ') || 'none'})`);
        }
      });
    }
    // The only kernel CPU's script, in order after the setup: a call that must fail (a space never
    // created, an overlapping mmap) is the scenario's error, found here rather than on CPU 0 mid-run.
    if (!s.kernelCpus?.length) {
      try {
        runKernelScript(kernel, machine, kernelOnly(s.script), { checkStale: false });
      } catch (e) {
        if (e instanceof KernelError && e.errno === 'ENOMEM') {
          throw new ScenarioError(`scenario ${s.name}: the machine is too small: its ${cfg.frames} frames do not hold the script (${e.message}); raise machine.frames`);
        }
        if (e instanceof ConfigError) throw e;
        throw new ScenarioError(`scenario ${s.name}: script fails: ${(e as Error).message}`);
      }
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
