import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { type CliOutcome, runCli } from '../../src/cli/program.js';
import { badArguments } from './arguments.js';
import { type FuzzCase, argvIn } from './fuzz-case.js';
import { badScenarios } from './scenarios.js';
import { badTokens } from './tokens.js';

/** The three kinds of bad input, and the generator of each. */
export const FUZZ_KINDS = { arguments: badArguments, scenarios: badScenarios, tokens: badTokens } as const;
export type FuzzKind = keyof typeof FUZZ_KINDS;

/** Every kind, each a third of the cases. */
export const badInput: fc.Arbitrary<FuzzCase & { kind: FuzzKind }> = fc.oneof(
  ...(Object.keys(FUZZ_KINDS) as FuzzKind[]).map((kind) => FUZZ_KINDS[kind].map((c) => ({ ...c, kind }))),
);

/** A Node stack trace line. */
const STACK_LINE = /^\s+at .+/m;

/**
 * Run one case (in this process unless `run` says otherwise) in a fresh
 * directory under `root`, and return what is wrong with the outcome, or
 * null: a bad input must exit 2 with exactly one line on stderr, no stack
 * trace, nothing on stdout, and no file written or left behind.
 */
export async function checkCase(c: FuzzCase, root: string, run: (argv: string[]) => Promise<CliOutcome> = (a) => runCli(a)): Promise<{ problem: string | null; outcome: CliOutcome }> {
  const dir = mkdtempSync(join(root, 'case-'));
  try {
    const files = Object.keys(c.files ?? {}).sort();
    for (const name of files) writeFileSync(join(dir, name), c.files![name]);
    const outcome = await run(argvIn(c, dir));
    const left = readdirSync(dir).sort();
    const problems = [
      outcome.code !== 2 && `exit ${outcome.code}, not 2`,
      outcome.stdout !== '' && `stdout not empty (${JSON.stringify(outcome.stdout.slice(0, 80))})`,
      !/^smpsim: [^\n]*\n$/.test(outcome.stderr) && `stderr is not one line starting 'smpsim: '`,
      STACK_LINE.test(outcome.stderr) && 'a stack trace on stderr',
      JSON.stringify(left) !== JSON.stringify(files) && `files left in the directory: ${left.filter((f) => !files.includes(f)).join(', ')}`,
    ].filter(Boolean);
    const problem = problems.length
      ? `${c.what}: ${problems.join('; ')}\n  argv: ${JSON.stringify(argvIn(c, '<dir>'))}\n  stderr: ${JSON.stringify(outcome.stderr.slice(0, 300))}`
      : null;
    return { problem, outcome };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface FuzzOptions {
  /** Cases to run. */
  runs: number;
  seed: number;
  /** Where each case gets its directory. */
  root: string;
  /** The generator (default: every kind). */
  input?: fc.Arbitrary<FuzzCase & { kind?: FuzzKind }>;
  /** fast-check's path of a failure (printed with it): run that one case (shrunk) first. */
  path?: string;
}

/**
 * Run `runs` generated bad inputs through the CLI in this process. Throws on
 * the first that is not refused cleanly, after fast-check has shrunk it; the
 * message holds the seed and the path that replay it (FuzzOptions.seed, and
 * fast-check's `path`), the case and what the CLI printed. Returns how many
 * cases of each kind ran.
 */
export async function fuzzCli(o: FuzzOptions): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  await fc.assert(
    fc.asyncProperty(o.input ?? badInput, async (c) => {
      const { problem } = await checkCase(c, o.root);
      counts[c.kind ?? 'cases'] = (counts[c.kind ?? 'cases'] ?? 0) + 1;
      if (problem) throw new Error(problem);
    }),
    { numRuns: o.runs, seed: o.seed, endOnFailure: false, ...(o.path ? { path: o.path } : {}) },
  );
  return counts;
}
