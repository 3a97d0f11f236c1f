import type { RunReport } from '../harness/report.js';
import { type Reproduction, shrinkSummary } from '../harness/reproduction.js';
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
export function reproduction(report: RunReport, ci: number, scenarioArg: string, rep?: Reproduction): string[] {
  const c = report.combinations[ci];
  const out: string[] = [];
  if (rep?.search) {
    const s = rep.search;
    const how = `${s.iterations} pct iteration${s.iterations === 1 ? '' : 's'} in ${(s.ms / 1000).toFixed(1)} s`;
    out.push(s.found ? `pct search: the PCT scheduler caught this combination too (${rep.violation?.kind ?? 'a violation'}) within ${how}` : `pct search: no violation in ${how}${s.complete ? '' : ' (interrupted)'}; a longer --token-search may find one`);
  }
  if (rep?.shrink) out.push(`shrunk: ${shrinkSummary(rep.shrink)}`);
  const token = rep?.token ?? c.replay;
  if (token) return [...out, `replay: smpsim replay ${shellWord(token)}`];
  return [...out, `reproduce: ${runCommand(report, ci, scenarioArg)}`, '(stress runs are not deterministic: this reruns the same iteration seeds; --mode pct gives an exact replay token)'];
}

/** ", workload budget 400 steps" for a token that sets one, else "". */
export function workloadBudgetText(budget: number | undefined): string {
  return budget === undefined ? '' : `, workload budget ${budget} steps per CPU`;
}
