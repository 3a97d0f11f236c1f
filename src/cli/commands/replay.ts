import { CpuPool } from '../../harness/pool.js';
import { type ReplayResult, checkReplay, replayChecked } from '../../harness/replay.js';
import { type CliContext, RUN_FOR_REAL, inputsChecked } from '../context.js';
import { BadTokenError, decodeReplay } from '../../harness/replay-token.js';
import { resolveArchName } from '../alias-note.js';
import { archLabel } from '../../harness/scenario.js';
import { ExitCode, UsageError } from '../errors.js';
import { atMost } from '../exit.js';
import { renderViolation } from '../render.js';
import { loadScenario } from '../scenario-loader.js';
import { renderFields } from '../table.js';
import { writeOut } from '../io.js';

export interface ReplayCommandOptions {
  json?: boolean;
}

/** `smpsim replay <token>`: re-run exactly the controlled iteration a token names; returns the exit code. */
export async function replayCommand(token: string, o: ReplayCommandOptions, ctx: CliContext = RUN_FOR_REAL): Promise<number> {
  // Registered names and scenario files alike, with the same errors as `run`.
  const load = { loadScenario: async (ref: string) => (await loadScenario(ref)).scenario };
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
  const pool = new CpuPool();
  let result: ReplayResult;
  try {
    result = await replayChecked(checked, pool);
  } finally {
    await atMost(pool.close(), 5000);
  }
  if (o.json) writeOut(`${JSON.stringify(result, null, 2)}\n`);
  else writeOut(`${renderReplay(result)}\n`);
  return result.violations.length ? ExitCode.VIOLATIONS : ExitCode.OK;
}

export function renderReplay(r: ReplayResult): string {
  const s = r.spec;
  const out = [
    renderFields([
      ['scenario', s.scenario],
      ['combination', `${archLabel(s)} / ${s.hw}`],
      ['iteration', `${s.iteration} (seed ${s.seed}), ${s.cpus} CPUs, pct depth ${s.depth}${s.k === undefined ? '' : `, k ${s.k}`}`],
      ['events', `${r.events.length}, sha256 ${r.hash}`],
      ['violations', String(r.violations.length)],
    ]),
  ];
  if (r.interleaving.length) out.push('', r.violations.length ? 'interleaving up to the first violation:' : 'interleaving (last events):', ...r.interleaving.map((l) => `  ${l}`));
  if (r.violations.length) out.push('', 'first violation:', renderViolation(r.violations[0]));
  out.push('', r.violations.length ? 'verdict: caught: the replay reproduces the violation' : 'verdict: clean: no violation in this iteration');
  return out.join('\n');
}
