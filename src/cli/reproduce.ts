import type { RunReport } from '../harness/report.js';
import { archSpec } from './arch-spec.js';

/** Quote a shell word if it needs it. */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The `smpsim run` command line that reruns combination `ci` up to its first violating iteration. */
export function runCommand(report: RunReport, ci: number, scenarioArg: string): string {
  const c = report.combinations[ci];
  const iterations = (c.firstViolatingIteration ?? c.iterations - 1) + 1;
  const args = ['smpsim', 'run', scenarioArg, '--arch', archSpec(c), '--hw', c.hw, '--cpus', String(report.cpus), '--seed', String(report.seed), '--iterations', String(iterations)];
  if (report.mode !== 'stress') args.push('--mode', report.mode);
  return args.map(shellWord).join(' ');
}

/**
 * >>> REPLAY SWITCH: the one place that decides how a violation is reproduced.
 *
 * pct runs carry a replay token per combination (CombinationReport.replay):
 * `smpsim replay <token>` re-runs exactly that interleaving. A stress run is
 * not deterministic: the reproduction is the `smpsim run` command that
 * reruns the same iteration seeds, and the hint to use --mode pct.
 */
export function reproduction(report: RunReport, ci: number, scenarioArg: string): string[] {
  const c = report.combinations[ci];
  if (c.replay) return [`replay: smpsim replay ${shellWord(c.replay)}`];
  return [`reproduce: ${runCommand(report, ci, scenarioArg)}`, '(stress runs are not deterministic; run with --mode pct for an exact replay token)'];
}

/** ", workload budget 400 steps" for a token that sets one, else "". */
export function workloadBudgetText(budget: number | undefined): string {
  return budget === undefined ? '' : `, workload budget ${budget} steps per CPU`;
}
