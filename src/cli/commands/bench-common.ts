import { InvalidArgumentError } from 'commander';
import { type CostModel, parseCosts } from '../../harness/bench/cost.js';
import { writeFileAtomic } from '../../harness/bench/output.js';
import { checkOutputFile } from '../../harness/output-file.js';
import { provenance } from '../../harness/provenance.js';
import type { CliContext } from '../context.js';
import { MAX_CPUS } from '../../machine/config.js';
import { VERSION } from '../../version.js';
import { UsageError } from '../errors.js';
import { type Interrupt, watchInterrupt } from '../interrupt.js';
import type { StepProgress } from '../progress.js';
import { writeOut, writeErr } from '../io.js';

/** Options every `smpsim bench` command takes. */
export interface BenchOutputOptions {
  json?: boolean;
  csv?: boolean;
  plot?: string;
  cost?: string[];
}

export const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** "1,2,4,8,16" → [1, 2, 4, 8, 16] (each 1..32, no repeats). */
export function parseCpuList(v: string): number[] {
  const parts = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (!parts.length) throw new InvalidArgumentError('give CPU counts, comma-separated, like 1,2,4,8,16.');
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d+$/.test(p)) throw new InvalidArgumentError(`CPU count '${p}' is not an integer.`);
    const n = Number(p);
    if (n < 1 || n > MAX_CPUS) throw new InvalidArgumentError(`CPU counts must be between 1 and ${MAX_CPUS}, not ${n}.`);
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

export function positiveInt(what: string, max = 10_000_000): (v: string) => number {
  return (v: string) => {
    if (!/^\d+$/.test(v.trim())) throw new InvalidArgumentError(`${what} must be a positive integer.`);
    const n = Number(v.trim());
    if (n < 1 || n > max) throw new InvalidArgumentError(`${what} must be from 1 to ${max}.`);
    return n;
  };
}

/** Check the output options before measuring anything; returns the cost model and the absolute plot path. */
export function checkOutputs(o: BenchOutputOptions): { costs: CostModel; plot?: string } {
  if (o.json && o.csv) throw new UsageError('--json and --csv both write to stdout: give one');
  const costs = parseCosts(o.cost ?? []);
  let plot: string | undefined;
  if (o.plot !== undefined) {
    if (!/\.svg$/i.test(o.plot)) throw new UsageError(`--plot writes SVG: '${o.plot}' must end in .svg`);
    try {
      plot = checkOutputFile(o.plot, 'the plot');
    } catch (e) {
      throw new UsageError(`--plot: ${(e as Error).message}`);
    }
  }
  return { costs, plot };
}

/**
 * SIGINT, SIGTERM or SIGHUP during a bench: it stops after the measurement in
 * progress (abandoned if that takes more than a second more, or at a second
 * signal), and what was measured until then is printed, marked interrupted.
 * The progress bar is taken down first, so the message stands on its own line.
 */
export function benchInterrupt(progress: StepProgress): Interrupt {
  return watchInterrupt(() => progress.stop(), 'measurement');
}

/** What an interrupted bench printed: `done` says how much was measured ("2 of 10 points"); nothing measured writes no plot. */
export interface Partial {
  done: string;
  empty: boolean;
}

/** Print the result as the options ask: JSON, CSV or the table; write the plot. `ctx.argv`: the command line the JSON's provenance names. */
export function emit(o: BenchOutputOptions, plotFile: string | undefined, r: { json: unknown; csv: string; table: string; svg: () => string; partial?: Partial }, ctx: CliContext): void {
  if (r.partial) {
    const note = `interrupted: partial results (${r.partial.done})`;
    if (o.json || o.csv) writeErr(`smpsim: ${note}\n`);
    else r.table = `${note}\n\n${r.table}`;
    if (r.partial.empty) plotFile = undefined;
  }
  if (plotFile) {
    writeFileAtomic(plotFile, r.svg());
    if (!o.json && !o.csv) r.table += `\n\nplot written to ${plotFile}`;
    else writeErr(`smpsim: plot written to ${plotFile}\n`);
  }
  // tool and version first: `smpsim merge` takes only reports of one version.
  if (o.json) writeOut(`${JSON.stringify({ tool: 'smpsim', version: VERSION, provenance: provenance(ctx.argv), ...(r.json as object) }, null, 2)}\n`);
  else if (o.csv) writeOut(r.csv);
  else writeOut(`${r.table}\n`);
}
