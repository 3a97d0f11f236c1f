import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { VALID_RUN } from '../../tools/fuzz/arguments.js';
import { FUZZ_KINDS, type FuzzKind, checkCase, fuzzCli } from '../../tools/fuzz/check.js';
import { BASE, scenarioSource } from '../../tools/fuzz/scenarios.js';
import { GOOD_TOKEN } from '../../tools/fuzz/tokens.js';
import { cli } from './helpers.js';

/**
 * The fuzzer (tools/fuzz/): generated bad command lines, scenario files and
 * replay tokens must each exit 2 with exactly one line on stderr, no stack
 * trace, nothing on stdout and no file written. The cases run through
 * runCli, the CLI's own main() in this process (stopping once the inputs are
 * checked); a few also run as real processes, which must print the same.
 * A failure prints the seed and fast-check's path: SMPSIM_FUZZ_SEED=<seed>
 * SMPSIM_FUZZ_PATH=<path> replays that case (the soak runs more, with its
 * own seed: npm run soak -- --fuzz N --seed S, replayed here with
 * SMPSIM_FUZZ_SEED=S SMPSIM_FUZZ_RUNS=N). See docs/robustness.md.
 */
const SEED = Number(process.env.SMPSIM_FUZZ_SEED ?? 20261128);
const RUNS = Number(process.env.SMPSIM_FUZZ_RUNS ?? 300);
const PATH = process.env.SMPSIM_FUZZ_PATH || undefined;

const root = mkdtempSync(join(tmpdir(), 'smpsim-fuzz-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the fuzzer', () => {
  it('starts from inputs the CLI accepts (so each case is bad for the reason it says)', async () => {
    const file = join(root, 'base.mjs');
    writeFileSync(file, scenarioSource(BASE));
    for (const argv of [VALID_RUN, ['run', file], ['replay', GOOD_TOKEN]]) expect(await runCli(argv)).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it(`${RUNS} bad inputs (seed ${SEED}): each refused with exit 2, one line, nothing written`, async () => {
    const counts = await fuzzCli({ runs: RUNS, seed: SEED, root, path: PATH });
    if (!PATH) expect(Object.keys(counts).sort()).toEqual(['arguments', 'scenarios', 'tokens']);
  });

  it('the in-process path prints what the real CLI prints (a few cases of each kind, spawned)', async () => {
    const cases = (Object.keys(FUZZ_KINDS) as FuzzKind[]).flatMap((k) => fc.sample(FUZZ_KINDS[k], { numRuns: 2, seed: SEED }));
    // In this process one at a time (runCli captures the CLI's one output), the processes side by side.
    const inProcess = [];
    for (const c of cases) inProcess.push((await checkCase(c, root)).outcome);
    const results = await Promise.all(
      cases.map(async (c, i) => {
        const spawned = await checkCase(c, root, async (argv) => {
          const r = await cli(argv);
          return { code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
        });
        return { what: c.what, inProcess: inProcess[i], spawned: spawned.outcome, problem: spawned.problem };
      }),
    );
    for (const r of results) {
      expect(r.problem, r.what).toBe(null);
      // The directory differs per run; the rest must be the same.
      const norm = (s: string): string => s.replace(/\/[^ ']*case-[^/ ']+/g, '<dir>');
      expect({ ...r.spawned, stderr: norm(r.spawned.stderr) }, r.what).toEqual({ ...r.inProcess, stderr: norm(r.inProcess.stderr) });
    }
  });
});
