import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { POLICY_ALIASES, POLICY_OPTIONS, policyNames } from '../../src/kernel/index.js';
import { MAX_CPUS } from '../../src/machine/config.js';
import { flavourNames } from '../../src/machine/flavours.js';
import { MAX_PCT_DEPTH } from '../../src/harness/pct.js';
import { scenarioNames } from '../../scenarios/index.js';
import type { FuzzCase } from './fuzz-case.js';

/**
 * Bad command lines: one bad argument (a value out of range or of the wrong
 * form, an unknown name, option, command or file target, a forbidden
 * combination of options) among valid ones, in any order. What makes each
 * bad is stated here independently of the CLI's parsers, so a value they
 * accept by mistake is found.
 */

const KNOWN_NAMES = [...policyNames(), ...Object.keys(POLICY_ALIASES), ...flavourNames(), ...scenarioNames()];
/** An integer as the CLI reads one (numbers.ts), decimal or hex, with a sign. */
const INTEGER = /^\s*[+-]?(\d+|0x[0-9a-f]+)\s*$/i;
const DURATION = /^\s*(\d+(\.\d+)?|\.\d+)[ \t]*(ms|s|m|h)\s*$/;

/** Text that is no integer at all (control characters and non-ASCII digits included). */
const notAnInteger = fc.oneof(
  fc.constantFrom('', ' ', '1.5', '1e3', 'NaN', 'Infinity', '-', '0x', '++1', '1_000', '\u0663', '\uff11', '1\n2', 'four'),
  fc.string({ maxLength: 12 }).filter((s) => !INTEGER.test(s)),
);

/** An integer option's value outside [lo, hi], or no integer. */
function badInteger(lo: number, hi: number): fc.Arbitrary<string> {
  const outside = fc.oneof(
    ...(lo > Number.MIN_SAFE_INTEGER ? [fc.integer({ min: Number.MIN_SAFE_INTEGER, max: lo - 1 })] : []),
    ...(hi < Number.MAX_SAFE_INTEGER ? [fc.integer({ min: hi + 1, max: Number.MAX_SAFE_INTEGER })] : []),
  );
  return fc.oneof(outside.map(String), notAnInteger, fc.constant('99999999999999999999999'));
}

/** A duration that is not NUMBER UNIT, or is shorter than 1 ms. */
const badDuration = fc.oneof(
  fc.constantFrom('', '10', 's', '1 sec', '-1s', '0ms', '0.5ms', '0.0001s', '1e3ms', 'NaNs', '5x', '1h2m', '1\ns'),
  fc.string({ maxLength: 10 }).filter((s) => !DURATION.test(s)),
);

/** A name that is none of smpsim's, nor contains one (so no comma list can hold a good one). */
const unknownName = fc
  .oneof(
    fc.constantFrom('', 'vax', 'arm-9', 'x87', 'linux-7', 'LINUX-6', 'linux_6', ' \t', 'x86\nlinux-6'),
    // Names every JavaScript object has: a lookup in a plain object must not find them.
    fc.constantFrom('toString', 'constructor', 'hasOwnProperty', '__proto__', 'valueOf'),
    fc.string({ maxLength: 16 }),
  )
  .filter((s) => !KNOWN_NAMES.some((k) => s.includes(k)));

/** A policy option that linux-6 does not take as written: an unknown key, or a value it does not list. */
const badPolicyOption = fc.oneof(
  fc.constantFrom('linux-6:', 'linux-6:nope=1', 'linux-6:itlb=always', 'linux-6:tableFree', 'linux-6:tableFree=', 'linux-6:tableFree=RCU', 'linux-6:=rcu', 'generic-range:itlb=sometimes'),
  fc.string({ minLength: 1, maxLength: 8 }).filter((k) => ![...POLICY_OPTIONS.keys()].some((o) => o.toLowerCase() === k.toLowerCase().trim().replace(/-/g, ''))).map((k) => `linux-6:${k}=1`),
);

/** A scenario argument that is neither a registered name nor a file. */
const unknownScenario = unknownName.filter((s) => !existsSync(s));

/** An option no command has. */
const unknownFlag = fc.string({ minLength: 1, maxLength: 10 }).filter((s) => /^[a-z][a-z-]*$/.test(s) && !RUN_FLAGS.includes(s)).map((s) => `--${s}`);
const RUN_FLAGS = ['arch', 'hw', 'cpus', 'iterations', 'duration', 'seed', 'mode', 'depth', 'json', 'trace', 'ipi-timeout', 'help', 'version', 'csv', 'plot', 'cost', 'samples', 'rounds', 'ops', 'budget', 'flavour'];

/** Valid options of `run` (each accepted alone and together). */
const RUN_VALID: string[][] = [['--iterations', '3'], ['--cpus', '2'], ['--seed', '5'], ['--json'], ['--arch', 'linux-6'], ['--hw', 'x86'], ['--mode', 'stress'], ['--duration', '1s'], ['--ipi-timeout', '500ms']];

/** An option and its value, as `--opt value` or `--opt=value`. */
function option(flag: string, value: fc.Arbitrary<string>): fc.Arbitrary<string[]> {
  return fc.tuple(value, fc.boolean()).map(([v, joined]) => (joined ? [`${flag}=${v}`] : [flag, v]));
}

/** The flag of an option as written (`--cpus` of `--cpus=3`). */
const flagOf = (o: string[]): string => o[0].split('=')[0];

/** `head` then the valid options chosen, with `bad` at a random place among them (none naming its flag: a later one would override it). */
function among(head: string[], valid: string[][], bad: fc.Arbitrary<string[]>, what: string): fc.Arbitrary<FuzzCase> {
  return fc.tuple(fc.subarray(valid), bad, fc.nat()).map(([chosen, b, at]) => {
    const opts = chosen.filter((o) => !b.some((x) => x.startsWith('--') && flagOf([x]) === flagOf(o)));
    opts.splice(at % (opts.length + 1), 0, b);
    return { what, argv: [...head, ...opts.flat()] };
  });
}

/** The valid command line every `run` case starts from (a test checks it is accepted). */
export const VALID_RUN = ['run', 'arm-delayed-free', ...RUN_VALID.flat()];

const runBad: [string, fc.Arbitrary<string[]>][] = [
  ['--cpus out of range or not an integer', option('--cpus', badInteger(1, MAX_CPUS))],
  ['--iterations below 1 or not an integer', option('--iterations', badInteger(1, Number.MAX_SAFE_INTEGER))],
  ['--seed out of range or not an integer', option('--seed', badInteger(0, 0xffff_ffff))],
  ['--duration malformed or under 1 ms', option('--duration', badDuration)],
  ['--ipi-timeout malformed or under 1 ms', option('--ipi-timeout', badDuration)],
  ['--arch an unknown policy', option('--arch', unknownName)],
  ['--arch a bad policy option', option('--arch', badPolicyOption)],
  ['--hw an unknown flavour', option('--hw', unknownName)],
  ['--mode not stress or pct', option('--mode', unknownName.filter((s) => s !== 'stress' && s !== 'pct'))],
  ['--depth without --mode pct', fc.integer({ min: 1, max: MAX_PCT_DEPTH }).map((d) => ['--depth', String(d)])],
  ['--depth out of range in pct mode', badInteger(1, MAX_PCT_DEPTH).map((d) => ['--mode', 'pct', `--depth=${d}`])],
  ['--trace in a missing directory, on a directory, or ending in /', fc.constantFrom('{dir}/missing/t.json', '{dir}', '{dir}/t.json/').map((t) => ['--trace', t])],
  ['--csv in a missing directory, on a directory, or ending in /', fc.constantFrom('{dir}/missing/r.csv', '{dir}', '{dir}/r.csv/').map((t) => ['--csv', t])],
  ['--csv - with --json (both on stdout)', fc.constant(['--csv', '-', '--json'])],
  ['--expect not caught or clean', option('--expect', unknownName.filter((s) => s !== 'caught' && s !== 'clean'))],
  ['an unknown option', unknownFlag.map((f) => [f])],
];

const runCases = fc.oneof(
  ...runBad.map(([what, bad]) => among(['run', 'arm-delayed-free'], RUN_VALID, bad, `run: ${what}`)),
  unknownScenario.map((s): FuzzCase => ({ what: 'run: an unknown scenario', argv: ['run', s, '--iterations', '1'] })),
  fc.constant<FuzzCase>({ what: 'run: no scenario', argv: ['run'] }),
  fc.string({ maxLength: 8 }).map((x): FuzzCase => ({ what: 'run: an extra argument', argv: ['run', 'arm-delayed-free', 'extra', x] })),
);

const CPU_LIST = /^\s*\d+\s*(,\s*\d*\s*)*$/;
const badCpuList = fc.oneof(
  fc.constantFrom('', ',', '0', '33', 'a', '1,x', '1.5', '-1', '2,0', '1;2', '4,\n8x'),
  fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 4 }).filter((xs) => xs.some((x) => x < 1 || x > MAX_CPUS)).map((xs) => xs.join(',')),
  fc.string({ maxLength: 8 }).filter((s) => !CPU_LIST.test(s)),
);
const badCost = fc.constantFrom('nope=3', 'toString=5', 'constructor=1', '__proto__=2', 'ipi-send=x', 'ipi-send=-1', 'ipi-send', '=5', 'ipi-send=', 'walk-level=Infinity', 'ipi-send=1,broadcast');
const badPlot = fc.constantFrom('p.png', '{dir}/missing/p.svg', '{dir}/p.svg/', '{dir}/nodir/x/p.svg');
const BENCH_VALID: string[][] = [['--cpus', '1,2'], ['--flavour', 'ipi'], ['--samples', '20'], ['--ops', '10'], ['--budget', '50ms'], ['--arch', 'linux-6']];

const benchCases = fc.oneof(
  among(['bench', 'shootdown'], BENCH_VALID, option('--cpus', badCpuList), 'bench shootdown: a bad CPU list'),
  among(['bench', 'shootdown'], BENCH_VALID, option('--flavour', unknownName.filter((s) => s.split(',').some((x) => x.trim() !== ''))), 'bench shootdown: an unknown flavour'),
  among(['bench', 'shootdown'], BENCH_VALID, option('--samples', badInteger(1, 10_000_000).filter((v) => !/^\s*\+/.test(v))), 'bench shootdown: --samples out of range'),
  among(['bench', 'shootdown'], BENCH_VALID, option('--budget', badDuration), 'bench shootdown: a bad --budget'),
  among(['bench', 'shootdown'], BENCH_VALID, option('--cost', badCost), 'bench shootdown: a bad --cost'),
  among(['bench', 'shootdown'], BENCH_VALID, option('--plot', badPlot), 'bench shootdown: a bad --plot'),
  among(['bench', 'shootdown'], BENCH_VALID, fc.constant(['--json', '--csv']), 'bench shootdown: --json with --csv'),
  among(['bench', 'ipi'], [['--samples', '100'], ['--json']], option('--rounds', badInteger(1, 1000)), 'bench ipi: --rounds out of range'),
  among(['bench', 'policies', 'itlb-exec-policy'], [['-n', '2'], ['--cpus', '2']], option('--hw', unknownName), 'bench policies: an unknown flavour'),
  among(['bench', 'policies', 'itlb-exec-policy'], [['-n', '2'], ['--cpus', '2']], option('--arch', unknownName), 'bench policies: an unknown policy'),
  unknownScenario.map((s): FuzzCase => ({ what: 'bench policies: an unknown scenario', argv: ['bench', 'policies', s] })),
  unknownName.filter((s) => !['ipi', 'shootdown', 'policies', 'help'].includes(s) && !s.startsWith('-')).map((s): FuzzCase => ({ what: 'bench: an unknown bench', argv: ['bench', s] })),
);

const otherCases = fc.oneof(
  unknownName.filter((s) => !['run', 'list', 'replay', 'bench', 'help'].includes(s) && !s.startsWith('-')).map((s): FuzzCase => ({ what: 'an unknown command', argv: [s] })),
  unknownFlag.map((f): FuzzCase => ({ what: 'an unknown top-level option', argv: [f] })),
  option('--arch', unknownName).map((a): FuzzCase => ({ what: 'list: an unknown policy', argv: ['list', ...a] })),
  option('--hw', unknownName).map((a): FuzzCase => ({ what: 'list: an unknown flavour', argv: ['list', ...a] })),
  fc.string({ maxLength: 40 }).filter((t) => !t.trim().startsWith('smp1.')).map((t): FuzzCase => ({ what: 'replay: not a token', argv: ['replay', t] })),
);

/** A bad command line, of any command. */
export const badArguments: fc.Arbitrary<FuzzCase> = fc.oneof({ arbitrary: runCases, weight: 3 }, { arbitrary: benchCases, weight: 2 }, { arbitrary: otherCases, weight: 1 });
