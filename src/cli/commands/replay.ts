import { type ReplayResult, checkReplay, replayChecked } from '../../harness/replay.js';
import { type CliContext, RUN_FOR_REAL, commandPool, inputsChecked } from '../context.js';
import { BadTokenError, decodeReplay } from '../../harness/replay-token.js';
import { resolveArchName } from '../alias-note.js';
import { archLabel } from '../../harness/scenario.js';
import { ExitCode, UsageError } from '../errors.js';
import { renderViolation } from '../render.js';
import { loadScenario } from '../scenario-loader.js';
import { renderFields } from '../table.js';
import { writeErr, writeOut } from '../io.js';
import { writeTrace } from '../../harness/trace.js';
import { scheduleOf, type ReplaySpec } from '../../harness/replay-token.js';
import { workloadBudgetText } from '../reproduce.js';
import { checkOutput } from './run.js';

/** "pct schedule: 2 change points (steps 1200, 3400), priorities 5,3,4; workload budget 400 steps". */
function scheduleText(s: ReplaySpec): string {
  const sch = scheduleOf(s);
  const changes = sch.changes.length ? `${sch.changes.length} change point${sch.changes.length > 1 ? 's' : ''} (step ${sch.changes.join(', ')})` : 'no change point';
  return `pct priorities ${sch.priorities.join(',')}, ${changes}${workloadBudgetText(s.budget)}`;
}

export interface ReplayCommandOptions {
  json?: boolean;
  /** Print every event up to the violation, not only the story. */
  full?: boolean;
  /** Write the replayed iteration as a Perfetto (Chrome trace-event JSON) trace here. */
  trace?: string;
}

/** `smpsim replay <token>`: re-run exactly the controlled iteration a token names; returns the exit code. */
export async function replayCommand(token: string, o: ReplayCommandOptions, ctx: CliContext = RUN_FOR_REAL): Promise<number> {
  // Registered names and scenario files alike, with the same errors as `run`.
  const load = { loadScenario: async (ref: string) => (await loadScenario(ref)).scenario };
  const trace = o.trace === undefined ? undefined : checkOutput('--trace', o.trace, 'the trace');
  let checked: Awaited<ReturnType<typeof checkReplay>>;
  try {
    // A token naming an old policy name replays under the new one; say so.
    resolveArchName(decodeReplay(token.trim()).arch);
    checked = await checkReplay(token.trim(), load);
  } catch (e) {
    if (e instanceof BadTokenError) throw new UsageError(e.message);
    throw e;
  }
  if (inputsChecked(ctx)) return 0;
  const { pool, release } = commandPool(ctx);
  let result: ReplayResult;
  try {
    result = await replayChecked(checked, pool);
  } finally {
    await release();
  }
  if (trace) {
    const s = result.spec;
    try {
      writeTrace(trace, result.perCpu, { scenario: s.scenario, label: `${archLabel(s)} / ${s.hw}`, mode: 'pct' });
    } catch (e) {
      writeErr(`smpsim: --trace: cannot write ${trace}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
      return ExitCode.INTERNAL;
    }
  }
  // The per-CPU event arrays are the trace writer's input; the JSON has the merged events.
  const { perCpu: _perCpu, ...doc } = result;
  if (o.json) writeOut(`${JSON.stringify(doc, null, 2)}\n`);
  else writeOut(`${renderReplay(result, o.full)}\n`);
  // One line naming the file, on stderr so that stdout stays the report (JSON or text).
  if (trace) writeErr(`trace written to ${trace} (open it in https://ui.perfetto.dev)\n`);
  return result.violations.length ? ExitCode.VIOLATIONS : ExitCode.OK;
}

export function renderReplay(r: ReplayResult, full = false): string {
  const s = r.spec;
  const out = [
    renderFields([
      ['scenario', s.scenario],
      ['combination', `${archLabel(s)} / ${s.hw}`],
      ['iteration', `${s.iteration} (seed ${s.seed}), ${s.cpus} CPUs, ${scheduleText(s)}`],
      ['events', `${r.events.length}, sha256 ${r.hash}`],
      ['violations', String(r.violations.length)],
    ]),
  ];
  const lines = full || !r.violations.length ? r.interleaving : r.story;
  const title = full ? 'every event up to the first violation:' : r.violations.length ? `the story of the first violation (${r.interleaving.length} events in all; --full prints every one):` : 'no violation; the last events:';
  if (lines.length) out.push('', title, ...(full || r.violations.length ? lines : lines.slice(-40)).map((l) => `  ${l}`));
  if (r.violations.length) out.push('', 'first violation:', renderViolation(r.violations[0]));
  out.push('', r.violations.length ? 'verdict: caught: the replay reproduces the violation' : 'verdict: clean: no violation in this iteration');
  return out.join('\n');
}
