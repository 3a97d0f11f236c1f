import fc from 'fast-check';
import { MAX_CPUS } from '../../src/machine/config.js';
import { MAX_PCT_DEPTH } from '../../src/harness/pct.js';
import { type ReplaySpec, encodeReplay } from '../../src/harness/replay-token.js';
import type { FuzzCase } from './fuzz-case.js';

/**
 * Bad replay tokens: a valid token (GOOD, which a test checks is accepted)
 * cut short, with a character changed, or with one field replaced by a value
 * the same field on the command line would refuse; and tokens whose content
 * is no token at all.
 */
export const GOOD: ReplaySpec = { scenario: 'arm-delayed-free', arch: 'arm-2.6.37', hw: 'arm11mpcore', cpus: 3, iteration: 4, seed: 12345, depth: 3, k: 900 };
export const GOOD_TOKEN = encodeReplay(GOOD);

const PREFIX = 'smp1.';
const packed = (a: unknown): string => PREFIX + Buffer.from(JSON.stringify(a)).toString('base64url');
/** GOOD as the array the token packs: [scenario, arch, options, hw, cpus, iteration, seed, depth, k]. */
const FIELDS = (): unknown[] => [GOOD.scenario, GOOD.arch, 0, GOOD.hw, GOOD.cpus, GOOD.iteration, GOOD.seed, GOOD.depth, GOOD.k];

const notInteger = fc.oneof(fc.constantFrom(1.5, 'x', null, true, [], {}, '3'), fc.double({ noInteger: true, noNaN: true }));
/** Per field, values it must refuse. */
const BAD_FIELD: [string, number, fc.Arbitrary<unknown>][] = [
  ['scenario', 0, fc.oneof(fc.constantFrom('', '   ', 'no-such-scenario', './missing.ts', 5, null))],
  ['policy', 1, fc.oneof(fc.constantFrom('', 'arm-9', 'vax', 7, null), fc.string({ maxLength: 8 }).filter((s) => !/^(arm|sh|ia64|generic|linux)/.test(s)))],
  ['policy options', 2, fc.constantFrom('x', 5, [], { nope: 1 }, { fastMode: 'maybe' }, { itlb: 'always' })],
  ['hardware', 3, fc.oneof(fc.constantFrom('', 'vax', 'X86', 3, null), fc.string({ maxLength: 8 }).filter((s) => !/^(arm|x86|sh4|ia64)/.test(s)))],
  ['CPUs', 4, fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: MAX_CPUS + 1 }), notInteger)],
  ['iteration', 5, fc.oneof(fc.integer({ max: -1 }), fc.constant(2 ** 60), notInteger)],
  ['seed', 6, fc.oneof(fc.integer({ max: -1 }), fc.integer({ min: 2 ** 32, max: Number.MAX_SAFE_INTEGER }), notInteger)],
  ['depth', 7, fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: MAX_PCT_DEPTH + 1 }), fc.constant(1e9), notInteger)],
  ['step estimate', 8, fc.oneof(fc.constant(0), fc.integer({ max: -2 }), fc.constant(2 ** 60), notInteger)],
];

const altered = fc.oneof(
  ...BAD_FIELD.map(([name, i, v]) =>
    v.map((x): FuzzCase => {
      const a = FIELDS();
      a[i] = x;
      return { what: `replay token: ${name} is ${JSON.stringify(x)}`, argv: ['replay', packed(a)] };
    }),
  ),
);

const truncated = fc.integer({ min: 0, max: GOOD_TOKEN.length - 1 }).map((n): FuzzCase => ({ what: `replay token cut to ${n} characters`, argv: ['replay', GOOD_TOKEN.slice(0, n)] }));

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** One character of the payload changed: the JSON then no longer parses, or a field changed. Only changes that spoil it count. */
const mangled = fc
  .tuple(fc.integer({ min: PREFIX.length, max: GOOD_TOKEN.length - 1 }), fc.constantFrom(...B64, '!', '=', ' ', '%'))
  .map(([i, ch]) => GOOD_TOKEN.slice(0, i) + ch + GOOD_TOKEN.slice(i + 1))
  .filter((t) => t !== GOOD_TOKEN && !stillValid(t))
  .map((t): FuzzCase => ({ what: 'replay token with a character changed', argv: ['replay', t] }));

/** Whether a changed token still decodes to a spec this fuzzer would accept (a different but sound iteration). */
function stillValid(t: string): boolean {
  try {
    const a = JSON.parse(Buffer.from(t.slice(PREFIX.length), 'base64url').toString('utf8')) as unknown[];
    const g = FIELDS();
    // Only the numbers may move and stay sound: a changed digit of cpus, iteration, seed, depth or k.
    return Array.isArray(a) && a.length === 9 && a.every((x, i) => (i < 4 ? JSON.stringify(x) === JSON.stringify(g[i]) : Number.isInteger(x))) &&
      (a[4] as number) >= 1 && (a[4] as number) <= MAX_CPUS && (a[5] as number) >= 0 && (a[6] as number) >= 0 && (a[6] as number) <= 0xffff_ffff &&
      (a[7] as number) >= 1 && (a[7] as number) <= MAX_PCT_DEPTH && ((a[8] as number) === -1 || (a[8] as number) >= 1);
  } catch {
    return false;
  }
}

const shapes = fc
  .oneof(fc.constantFrom<unknown>([], {}, null, 'text', 42, FIELDS().slice(0, 8), [...FIELDS(), 1]), fc.jsonValue().filter((v) => !Array.isArray(v) || v.length !== 9))
  .map((v): FuzzCase => ({ what: `replay token packing ${JSON.stringify(v).slice(0, 40)}`, argv: ['replay', packed(v)] }));

const garbage = fc.string({ maxLength: 30 }).map((s): FuzzCase => ({ what: 'replay token with garbage after the prefix', argv: ['replay', `${PREFIX}${s}`] }));

/** A bad replay token. */
export const badTokens: fc.Arbitrary<FuzzCase> = fc.oneof(altered, truncated, mangled, shapes, garbage.filter((c) => !stillValid(c.argv[1])));
