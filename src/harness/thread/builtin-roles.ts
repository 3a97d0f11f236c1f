import { type CoreGateProbeArgs, coreGateProbe } from './core-gate-roles.js';
import { type KernelRoleArgs, kernelRole } from './kernel-role.js';
import { hitRate, ipiSender, rawPingClient, rawPingServer } from './ipi-bench-roles.js';
import { Rng, cpuSeed } from '../../machine/rng.js';
import { runWorkload } from '../../machine/runloop.js';
import { compileWorkload, type Workload } from '../../machine/workload.js';
import { registerRole } from './roles.js';
import './bench-roles.js';
import { runScript, type ScriptCommand } from './script.js';
import { allocStress, type AllocStressArgs, churn, type ChurnArgs, invalidateRace, type InvalidateRaceArgs, lockStress, type LockStressArgs } from './selfcheck-roles.js';

export interface WorkloadArgs {
  workload: Workload;
  seed: number;
}

registerRole('workload', (cpu, machine, args: WorkloadArgs) => {
  const w = compileWorkload(args.workload, machine.config.speculation, machine.layout.vpnLimit);
  return runWorkload(cpu, w, new Rng(cpuSeed(args.seed, cpu.id)));
});
registerRole('script', (cpu, machine, args: ScriptCommand[]) => runScript(cpu, machine, args));
registerRole('churn', (cpu, machine, args: ChurnArgs) => churn(cpu, machine, args));
registerRole('allocStress', (cpu, machine, args: AllocStressArgs) => allocStress(cpu, machine, args));
registerRole('invalidateRace', (cpu, machine, args: InvalidateRaceArgs) => invalidateRace(cpu, machine, args));
registerRole('lockStress', (cpu, machine, args: LockStressArgs) => lockStress(cpu, machine, args));
registerRole('rawPingClient', (cpu, machine, args) => rawPingClient(cpu, machine, args));
registerRole('rawPingServer', (cpu, machine) => rawPingServer(cpu, machine));
registerRole('ipiSender', (cpu, machine, args) => ipiSender(cpu, machine, args));
registerRole('hitRate', (cpu, machine, args) => hitRate(cpu, machine, args));
registerRole('kernel', (cpu, machine, args: KernelRoleArgs) => kernelRole(cpu, machine, args));
registerRole('coreGateProbe', (cpu, machine, args: CoreGateProbeArgs) => coreGateProbe(cpu, machine, args));
/**
 * A thread deaf to the machine (tests of CpuPool's abandonment): it spins for
 * `ms` without looking at the abort word, as a thread stuck where no abort
 * reaches would; it can only be terminated.
 */
registerRole('deaf', (_cpu, _machine, args: { ms: number }) => {
  const until = performance.now() + args.ms;
  while (performance.now() < until) {
    // nothing: ignores the machine
  }
  return null;
});

/**
 * A thread that ends itself (tests of CpuPool's handling of a thread that
 * dies mid-iteration: the other CPUs must leave at once).
 */
registerRole('exitThread', () => process.exit(0));
