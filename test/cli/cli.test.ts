import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyNames } from '../../src/kernel/index.js';
import { flavourNames } from '../../src/machine/flavours.js';
import { builtinScenarios, findScenario } from '../../scenarios/index.js';
import { decodeReplay } from '../../src/harness/replay-token.js';
import { workloadBudget } from '../../src/harness/runner.js';
import { type CliResult, MAIN, STACK_LINE, cli, cliInProcess, inProcessCli, signalsOn } from './helpers.js';

// The seed's bug, and its fix, on the same hardware; runs as small as the assertions allow: these
// tests are about what the CLI prints and returns (test/scenarios/ checks the scenario itself). The
// bug shows in about 9 iterations in 10 at 2 CPUs, so 5 iterations all miss it about once in 10^5.
const BUGGY = ['run', 'arm-delayed-free', '--arch', 'arm-2.6.37', '--hw', 'arm11mpcore', '--iterations', '5', '--cpus', '2'];
const FIXED = ['run', 'arm-delayed-free', '--arch', 'arm-2.6.38', '--hw', 'arm11mpcore', '--iterations', '3', '--cpus', '2'];
/** No pct search for a token, no shrinking: for a text run whose reproduction the test does not look at. */
const NO_REPRODUCTION = ['--token-search', 'off', '--shrink', 'off'];

/** A scenario file with no imports: a plain object default export. */
function scenarioSource(o: { name: string; expectLinux6: 'caught' | 'clean'; workloadPrelude?: string; unmapAsid?: number; crash?: boolean }): string {
  return `
const PAGES: number = 16;
export default {
  name: '${o.name}',
  title: 'munmap under readers (test)',
  description: 'CPU 0 munmaps what the other CPUs read and write',
  cpus: 2,
  machine: { frames: 256 },
  setup: [
    { op: 'createMm', asid: 0 },
    { op: 'switchMm', asid: 0 },
    { op: 'mmap', asid: 0, start: 0, pages: PAGES, write: true },
  ],
  script: [
    { op: 'waitSteps', steps: 300 },
    { op: 'munmap', asid: ${o.unmapAsid ?? 0}, start: 0, end: PAGES },
    ${o.crash ? "{ op: 'shiftArgPages', asid: 0, vmaStart: 5, shift: 1 }," : ''}
  ],
  ${o.crash ? 'kernelCpus: [{ cpu: 1, script: [] }],' : ''}
  workload: (cpu: number) => {
    ${o.workloadPrelude ?? ''}
    return { spaces: [0], ranges: [{ start: 0, pages: PAGES }], mix: { load: 2, store: 1 } };
  },
  combinations: [
    { arch: 'arm-2.6.37', hw: 'arm11mpcore', expect: 'caught' },
    { arch: 'linux-6', hw: 'armv7-mp', expect: '${o.expectLinux6}' },
  ],
};
`;
}

/**
 * Most cases run the CLI in this process (same main(), output and exit code),
 * on one warm CPU pool; those about a real process (the bin, signals, a
 * scenario file loaded by Node) spawn it.
 */
const run = inProcessCli();

/** scenarioSource's TypeScript as plain JavaScript (its only annotations are two `: number`s). */
function plainJs(ts: string): string {
  return ts.replace(': number', '').replace('(cpu: number)', '(cpu)');
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'smpsim-cli-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the bin', () => {
  it('starts with a shebang and is executable', () => {
    expect(existsSync(MAIN)).toBe(true);
    expect(statSync(MAIN).mode & 0o111).not.toBe(0);
  });
});

describe('smpsim list', () => {
  it('names every registered scenario, policy and flavour', async () => {
    const r = await cli(['list']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    for (const s of builtinScenarios()) expect(r.stdout).toContain(s.name);
    for (const p of policyNames()) expect(r.stdout).toContain(p);
    for (const f of flavourNames()) expect(r.stdout).toContain(f);
  });
});

describe('--help', () => {
  // The first in a real process, the others in this one (cliInProcess).
  it.each([[[]], [['list']], [['run']], [['replay']]])('%j --help exits 0 with usage', async (cmd) => {
    const r = cmd.length === 0 ? await cli(['--help']) : await cliInProcess([...cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: smpsim/);
  });
});

describe('smpsim run, one combination', () => {
  it('exits 0 on the buggy combination, caught as the scenario expects, with the first violation and a reproduction', async () => {
    const r = await run(BUGGY);
    expect(r.code).toBe(0);
    // stderr is not a terminal: no progress.
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('combination: arm-2.6.37 / arm11mpcore');
    expect(r.stdout).toContain('first violation:');
    for (const field of ['kind:', 'CPU:', 'address:', 'frame:', 'generation:', 'owner:', 'freed by:']) expect(r.stdout).toContain(field);
    // A stress run cannot be replayed: the PCT scheduler is run on the same combination for a token, which is shrunk.
    expect(r.stdout).toMatch(/^pct search: the PCT scheduler caught this combination too \([a-z-]+\) within \d+ pct iterations? in [\d.]+ s$/m);
    expect(r.stdout).toMatch(/^shrunk: .*\(\d+ attempts in [\d.]+ s\)$/m);
    expect(r.stdout).toMatch(/^replay: smpsim replay smp2\.[\w-]+$/m);
    expect(r.stdout).toMatch(/verdict: caught: .* \(as expected\)$/m);
  });

  it('exits 1 when it comes out otherwise than expected: --expect overrides the scenario, and says so', async () => {
    const r = await run([...BUGGY, '--expect', 'clean', ...NO_REPRODUCTION]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("smpsim: --expect clean overrides the scenario's expectation of arm-2.6.37 / arm11mpcore (caught)\n");
    expect(r.stdout).toContain('combination: arm-2.6.37 / arm11mpcore (expected: clean)');
    expect(r.stdout).toMatch(/verdict: caught: .* \(expected clean\)$/m);
  });

  it('without the pct search, a stress violation comes with the exact command that reruns its seeds', async () => {
    const r = await run([...BUGGY, '--token-search', 'off']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^reproduce: smpsim run arm-delayed-free --arch arm-2\.6\.37 --hw arm11mpcore --cpus 2 --seed 1 --iterations \d+$/m);
    expect(r.stdout).not.toMatch(/^replay: /m);
  });

  it('exits 0 on the fixed combination', async () => {
    const r = await run(FIXED);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('outcome:     clean');
    expect(r.stdout).not.toContain('first violation');
  });

  it('takes policy options as NAME:KEY=VALUE and runs a combination the scenario does not declare', async () => {
    const r = await run(['run', 'arm-delayed-free', '--arch', 'generic-range:itlb=always', '--hw', 'x86', '--iterations', '2', '--cpus', '2', ...NO_REPRODUCTION]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('generic-range:itlb=always / x86 (expected: not stated)');
  });

  it('an ad hoc combination is reported only, caught or not; --expect gives it an expectation the exit code follows', async () => {
    // arm-2.6.37 on x86: not declared by the scenario, and caught (as often as on arm11mpcore).
    const adHoc = ['run', 'arm-delayed-free', '--arch', 'arm-2.6.37', '--hw', 'x86', '--iterations', '5', '--cpus', '2'];
    const open = await run([...adHoc, '--json']);
    const report = JSON.parse(open.stdout);
    expect(report.combinations[0]).toMatchObject({ expected: null, outcome: 'caught', asExpected: null });
    expect([open.code, report.ok]).toEqual([0, true]);
    const text = await run([...adHoc, ...NO_REPRODUCTION]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/verdict: caught: .* \(no expectation, reported only; --expect caught\|clean sets one\)$/m);
    const wrong = await run([...adHoc, '--expect', 'clean', '--json']);
    expect(wrong.stderr).toBe('');
    expect([wrong.code, JSON.parse(wrong.stdout).ok, JSON.parse(wrong.stdout).combinations[0].asExpected]).toEqual([1, false, false]);
    const right = await run([...adHoc, '--expect', 'caught', ...NO_REPRODUCTION]);
    expect(right.code).toBe(0);
  });
});

describe('smpsim run, a matrix', () => {
  it('prints one row per combination and exits 0 when every one is as expected', async () => {
    const r = await run(['run', 'arm-delayed-free', '--arch', 'arm-2.6.37,arm-2.6.38', '--hw', 'arm11mpcore', '--iterations', '5', '--cpus', '2']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const header = lines.find((l) => l.startsWith('combination'))!;
    for (const h of ['expected', 'outcome', 'iterations', 'violations', 'violating its', 'first at it', 'time to first', 'IPIs', 'flushes']) expect(header).toContain(h);
    expect(lines.filter((l) => /^arm-2\.6\.3[78] \/ arm11mpcore\s/.test(l))).toHaveLength(2);
    expect(r.stdout).toMatch(/verdict: all 2 combinations as expected/);
  });

  it('combinations without expectation are reported only, in the matrix, the JSON ok and the exit code alike', async () => {
    // The scenario declares neither policy on x86: both ad hoc, one caught, one clean.
    const args = ['run', 'arm-delayed-free', '--arch', 'arm-2.6.37,arm-2.6.38', '--hw', 'x86', '--iterations', '5', '--cpus', '2'];
    const r = await run([...args, ...NO_REPRODUCTION]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^arm-2\.6\.37 \/ x86\s+hypothetical\s+-\s+caught\s+-\s/m);
    expect(r.stdout).toMatch(/verdict: no combination has an expectation: reported only \(1 caught, 1 clean; --expect caught\|clean sets one\)/);
    const j = await run([...args, '--json']);
    expect([j.code, JSON.parse(j.stdout).ok]).toEqual([0, true]);
    const e = await run([...args, '--expect', 'clean', ...NO_REPRODUCTION]);
    expect(e.code).toBe(1);
    expect(e.stdout).toMatch(/verdict: 1 of 2 combinations differ from expectation: arm-2\.6\.37 \/ x86 \(expected clean, caught\)/);
  });
});

describe('--json', () => {
  it('prints exactly one report with the documented fields', async () => {
    const r = await run([...BUGGY, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    for (const k of ['tool', 'version', 'scenario', 'title', 'mode', 'seed', 'cpus', 'combinations', 'ok', 'interrupted']) expect(report).toHaveProperty(k);
    expect(report).toMatchObject({ tool: 'smpsim', scenario: 'arm-delayed-free', mode: 'stress', seed: 1, cpus: 2, ok: true, interrupted: false });
    expect(report.combinations).toHaveLength(1);
    const c = report.combinations[0];
    for (const k of [
      'arch',
      'archOptions',
      'archLabel',
      'hw',
      'hypothetical',
      'expected',
      'outcome',
      'asExpected',
      'iterations',
      'violations',
      'violatingIterations',
      'firstViolatingIteration',
      'timeToFirstMs',
      'firstViolation',
      'wallMs',
      'iterationsPerSecond',
      'machine',
      'kernel',
    ])
      expect(c).toHaveProperty(k);
    expect(c).toMatchObject({ arch: 'arm-2.6.37', hw: 'arm11mpcore', hypothetical: false, expected: 'caught', outcome: 'caught', asExpected: true, iterations: 5 });
    expect(c.violations).toBeGreaterThan(0);
    for (const k of ['kind', 'cpu', 'vpn', 'address', 'frame', 'frameKind', 'genAtFill', 'genNow', 'ownerBefore', 'ownerNow', 'cpuOp', 'freedBy', 'freerNow'])
      expect(c.firstViolation).toHaveProperty(k);
    expect(c.kernel.flushes.total).toBeGreaterThan(0);
    expect(typeof c.machine.ipisSent).toBe('number');
    // Where it was made: this command line, this Node, this host.
    expect(report.provenance).toMatchObject({ smpsim: report.version, node: process.version, argv: [...BUGGY, '--json'] });
    expect(report.provenance.hostCores).toBeGreaterThan(0);
    expect(Date.parse(report.provenance.date)).not.toBeNaN();
  });
});

// Spawned, side by side: a scenario file is loaded by Node's own loader, with smpsim's hooks.
describe.concurrent('scenario files', () => {
  it('runs a .ts scenario given by path, and leaves nothing beside it', async () => {
    writeFileSync(join(dir, 'good.ts'), scenarioSource({ name: 'file-good', expectLinux6: 'clean' }));
    const r = await cli(['run', './good.ts', '--iterations', '10'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('file-good');
    expect(r.stdout).toMatch(/^arm-2\.6\.37 \/ arm11mpcore\s+real\s+caught\s+caught\s+yes/m);
    expect(r.stdout).toMatch(/verdict: all 2 combinations as expected/);
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it("resolves `import { defineScenario } from 'smpsim'` to this installation", async () => {
    const src = `import { defineScenario } from 'smpsim';\n${scenarioSource({ name: 'file-import', expectLinux6: 'clean' }).replace('export default {', 'export default defineScenario({').replace(/};\s*$/, '});\n')}`;
    writeFileSync(join(dir, 'imports.ts'), src);
    const r = await cli(['run', join(dir, 'imports.ts'), '--arch', 'linux-6', '--iterations', '2']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('file-import');
  });

  it('exits 1 when a combination differs from what the scenario expects', async () => {
    writeFileSync(join(dir, 'wrong.ts'), scenarioSource({ name: 'file-wrong', expectLinux6: 'caught' }));
    const r = await cli(['run', join(dir, 'wrong.ts'), '--iterations', '10']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^linux-6 \/ armv7-mp\s+real\s+caught\s+clean\s+NO/m);
    expect(r.stdout).toMatch(/verdict: 1 of 2 combinations differ from expectation: linux-6 \/ armv7-mp \(expected caught, clean\)/);
  });

  it('runs a .mjs scenario', async () => {
    const js = plainJs(scenarioSource({ name: 'file-js', expectLinux6: 'clean' }));
    writeFileSync(join(dir, 'plain.mjs'), js);
    const r = await cli(['run', join(dir, 'plain.mjs'), '--arch', 'linux-6', '--iterations', '2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('combination: linux-6 / armv7-mp (expected: clean)');
  });

  it('rejects a file whose default export is not a scenario (exit 2)', async () => {
    writeFileSync(join(dir, 'notascenario.ts'), 'export default { name: 42 };\n');
    const r = await cli(['run', join(dir, 'notascenario.ts')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^smpsim: scenario file '.*notascenario\.ts': name: .*expected string.*\n$/);
  });

  it('reports a syntax error in one line (exit 2)', async () => {
    writeFileSync(join(dir, 'broken.ts'), 'export default { name: \n');
    const r = await cli(['run', join(dir, 'broken.ts')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^smpsim: cannot compile scenario file '.*broken\.ts': .+\n$/);
  });
});

describe('usage errors exit 2 with one line on stderr and no stack trace', () => {
  const cases: [string[], RegExp][] = [
    [['run', 'arm-delayed-fre'], /unknown scenario 'arm-delayed-fre' \(did you mean 'arm-delayed-free'\?/],
    [['run', 'arm-delayed-free', '--arch', 'arm-2.6.73'], /unknown architecture policy 'arm-2\.6\.73' \(did you mean 'arm-2\.6\.37' or 'arm-2\.6\.38'\?/],
    [['run', 'arm-delayed-free', '--hw', 'armv7'], /unknown hardware flavour 'armv7' \(did you mean .*'armv7-mp'/],
    [['run', 'arm-delayed-free', '--arch', 'generic-range:itlb=sometimes'], /policy option itlb takes vma-exec or always, not 'sometimes'/],
    [['run', 'arm-delayed-free', '--arch', 'generic-range:itbl=always'], /unknown policy option 'itbl' \(did you mean 'itlb'\?/],
    [['run', 'arm-delayed-free', '--arch', 'linux-6:itlb=always'], /linux-6 takes no option itlb \(its options: nested, tableFallback, tableFree, [^;)]*; itlb is an option of generic-range\)/],
    [['run', 'arm-delayed-free', '--mode', 'pct', '--depth', '18'], /depth must be an integer from 1 to 17/],
    [['replay', `smp1.${Buffer.from(JSON.stringify(['arm-delayed-free', 'arm-9', 0, 'armv7-mp', 4, 0, 1, 3, -1])).toString('base64url')}`], /replay token is damaged: policy 'arm-9' is not one smpsim has/],
    [['replay', `smp1.${Buffer.from(JSON.stringify(['parallel-madv-dontneed', 'linux-6', 0, 'arm64', 1, 0, 1, 3, -1])).toString('base64url')}`], /kernelCpus: CPU 1 runs a kernel script, but the run has 1 CPU/],
    [['run', 'arm-delayed-free', '--cpus', '0'], /CPUs must be between 1 and 32/],
    [['run', 'arm-delayed-free', '--cpus', '33'], /CPUs must be between 1 and 32/],
    [['run', 'arm-delayed-free', '--cpus', '2.5'], /CPUs must be an integer/],
    [['run', 'arm-delayed-free', '--iterations', '-5'], /iterations must be a positive integer/],
    [['run', 'arm-delayed-free', '--iterations', 'ten'], /iterations must be an integer/],
    [['run', 'arm-delayed-free', '--duration', '10'], /duration must be a number with a unit, like 500ms, 10s, 2m/],
    [['run', 'arm-delayed-free', '--duration', '10 parsecs'], /duration must be a number with a unit/],
    [['run', 'arm-delayed-free', '--mode', 'chaos'], /Allowed choices are stress, pct/],
    [['run', 'arm-delayed-free', '--depth', '3'], /--depth applies only to --mode pct/],
    [['run', './no-such-scenario.ts'], /scenario file '\.\/no-such-scenario\.ts' not found/],
    [['run'], /missing required argument 'scenario'/],
    [['run', 'arm-delayed-free', '--frobnicate'], /unknown option '--frobnicate'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ];
  const refused = (r: CliResult, message: RegExp): void => {
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^smpsim: /);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(STACK_LINE);
  };
  // In this process, stopping once the inputs are checked (cliInProcess): a case that got past the
  // checks comes back with exit 0.
  it.each(cases)('%j', async (args, message) => {
    refused(await cliInProcess(args), message);
  });
  // A real process for a refusal of each origin (commander, an input check, a replay token, a file),
  // side by side: exit code and stderr as in this process.
  it('a real process refuses them the same way', async () => {
    const some = [cases[0], cases[7], cases[16], cases[18], cases[21]];
    const spawned = await Promise.all(some.map(([args]) => cli(args)));
    for (const [i, [args, message]] of some.entries()) {
      refused(spawned[i], message);
      expect(spawned[i].stderr, args.join(' ')).toBe((await cliInProcess(args)).stderr);
    }
  });
});

describe('pct mode and smpsim replay', () => {
  // The PCT scheduler catches it at this seed's iteration 1 (deterministically: pct runs are the seed's).
  const PCT = ['run', 'arm-delayed-free', '--arch', 'arm-2.6.37', '--hw', 'arm11mpcore', '--iterations', '3', '--cpus', '2', '--mode', 'pct'];
  let token = '';

  it('a pct run prints a replay token for the first violation', async () => {
    // pct runs are deterministic for their seed: the text and the JSON report the same run.
    const r = await run(PCT);
    const j = await run([...PCT, '--json']);
    // Caught, as the scenario expects: exit 0.
    expect(r.code).toBe(0);
    const m = /^replay: smpsim replay (smp2\.\S+)$/m.exec(r.stdout);
    expect(m).not.toBe(null);
    token = m![1];
    // The text prints the shrunk schedule's token; the JSON report the run's own (unshrunk) one.
    expect(r.stdout).toMatch(/^shrunk: /m);
    const report = JSON.parse(j.stdout);
    expect(report.mode).toBe('pct');
    expect(report.combinations[0].replay).toMatch(/^smp2\./);
    const ran = decodeReplay(report.combinations[0].replay);
    const shrunk = decodeReplay(token);
    expect(ran).toMatchObject({ scenario: 'arm-delayed-free', arch: 'arm-2.6.37', hw: 'arm11mpcore', cpus: 2 });
    expect(ran.budget).toBeUndefined();
    expect(shrunk).toMatchObject({ scenario: 'arm-delayed-free', arch: 'arm-2.6.37', hw: 'arm11mpcore', seed: ran.seed, iteration: ran.iteration });
    expect(shrunk.cpus).toBeLessThanOrEqual(2);
    expect(shrunk.budget).toBeLessThanOrEqual(workloadBudget(findScenario('arm-delayed-free')!));
  });

  it('smpsim replay <token> reproduces it (exit 1)', async () => {
    expect(token).not.toBe('');
    // A replay is deterministic: the text and the JSON one replay the same iteration.
    const r = await run(['replay', token]);
    const j = await run(['replay', token, '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('combination: arm-2.6.37 / arm11mpcore');
    expect(r.stdout).toContain('first violation:');
    expect(r.stdout).toContain('verdict: caught: the replay reproduces the violation');
    expect(j.code).toBe(1);
    const result = JSON.parse(j.stdout);
    expect(result.spec).toMatchObject({ scenario: 'arm-delayed-free', arch: 'arm-2.6.37', hw: 'arm11mpcore' });
    expect(result.violations.length).toBeGreaterThan(0);
    expect(result.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['not-a-token', /^smpsim: not a replay token/],
    ['smp1.%%%', /^smpsim: replay token is damaged/],
  ])('a bad token %j exits 2', async (bad, message) => {
    const r = await cliInProcess(['replay', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});

// In this process: scenario files in plain JavaScript (.mjs), which need none of the TypeScript hooks
// that only a real process has (the tests above load those).
describe('internal failures', () => {
  it('exit 3 with one line naming the CPU, and no stack trace, when a CPU fails mid-iteration', async () => {
    // shift_arg_pages of a vma that is not there, with a second kernel CPU (so no dry run): CPU 0 fails inside its thread.
    writeFileSync(join(dir, 'throws.mjs'), plainJs(scenarioSource({ name: 'file-throws', expectLinux6: 'clean', crash: true })));
    const r = await run(['run', join(dir, 'throws.mjs'), '--iterations', '2']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^smpsim: CPU 0 failed at step \d+ \([^)]*\): .*no vma starts at 5.*\n$/);
  });

  it('exit 2, not 3, when the script names an address space nothing creates (found before any thread runs)', async () => {
    writeFileSync(join(dir, 'noasid.mjs'), plainJs(scenarioSource({ name: 'file-noasid', expectLinux6: 'clean', unmapAsid: 3 })));
    const r = await run(['run', join(dir, 'noasid.mjs'), '--iterations', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('smpsim: scenario file-noasid: script[1]: munmap names address space 3, which no createMm creates (created: 0)\n');
  });

  it('exit 2, not 3, when the workload function of a scenario throws (an input error found before any thread runs)', async () => {
    writeFileSync(join(dir, 'wthrows.mjs'), plainJs(scenarioSource({ name: 'file-wthrows', expectLinux6: 'clean', workloadPrelude: "throw new Error('workload exploded');" })));
    const r = await run(['run', join(dir, 'wthrows.mjs'), '--iterations', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('smpsim: scenario file-wthrows: workload of CPU 1: workload exploded\n');
  });
});

// Real processes signalled, side by side.
describe.concurrent('signals', () => {
  // SIGTERM is what CI runners and job engines send on a timeout, SIGHUP a closed terminal: both as Ctrl-C.
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('%s stops at the next iteration, writes the partial report marked interrupted, exits %i', async (sig, code) => {
    // The workload factory runs once the combination starts, after the CLI
    // has installed its signal handlers: it tells the test when to signal.
    writeFileSync(
      join(dir, `long-${sig}.ts`),
      scenarioSource({ name: 'file-long', expectLinux6: 'clean', workloadPrelude: "if (cpu === 1) process.stderr.write('READY\\n');" }),
    );
    const signals = signalsOn([['READY', sig]]);
    const r = await cli(['run', join(dir, `long-${sig}.ts`), '--arch', 'linux-6', '--duration', '10m', '--json'], { onStderr: signals.onStderr });
    expect(signals.sent()).toBe(1);
    expect(r.signal).toBe(null);
    expect(r.code).toBe(code);
    const report = JSON.parse(r.stdout);
    expect(report.interrupted).toBe(true);
    expect(report.combinations).toHaveLength(1);
    expect(report.combinations[0].arch).toBe('linux-6');
  });
});
