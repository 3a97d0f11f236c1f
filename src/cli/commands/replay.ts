import { CpuPool } from '../../harness/pool.js';
import { type ReplayResult, replay } from '../../harness/replay.js';
import { BadTokenError, decodeReplay } from '../../harness/replay-token.js';
import { resolveArchName } from '../alias-note.js';
import { archLabel } from '../../harness/scenario.js';
import { ExitCode, UsageError } from '../errors.js';
import { atMost } from '../exit.js';
import { renderViolation } from '../render.js';
import { loadScenario } from '../scenario-loader.js';
import { renderFields } from '../table.js';

export interface ReplayCommandOptions {
  json?: boolean;
}

/** `smpsim replay <token>`: re-run exactly the controlled iteration a token names; returns the exit code. */
export async function replayCommand(token: string, o: ReplayCommandOptions): Promise<number> {
  const pool = new CpuPool();
  let result: ReplayResult;
  try {
    // A token naming an old policy name replays under the new one; say so.
    resolveArchName(decodeReplay(token.trim()).arch);
    // Registered names and scenario files alike, with the same errors as `run`.
    result = await replay(token.trim(), { pool, loadScenario: async (ref) => (await loadScenario(ref)).scenario });
  } catch (e) {
    if (e instanceof BadTokenError) throw new UsageError(e.message);
    throw e;
  } finally {
    await atMost(pool.close(), 5000);
  }
  if (o.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else process.stdout.write(`${renderReplay(result)}\n`);
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
