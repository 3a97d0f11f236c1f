import fc from 'fast-check';
import type { FuzzCase } from './fuzz-case.js';
import { jsLiteral } from './js-literal.js';

/**
 * Bad scenario files: a small valid scenario (BASE, which a test checks is
 * accepted) with one thing wrong: a field of the wrong type, an unknown key,
 * a number out of range, a field missing, a workload or a script that cannot
 * run, a default export that is no scenario, a file that does not load.
 */

type Json = Record<string, unknown>;

/** The scenario every case spoils; `workload` is what its workload function returns. */
export const BASE: Json = {
  name: 'fuzz-base',
  title: 'fuzz',
  cpus: 2,
  machine: { frames: 64 },
  setup: [
    { op: 'createMm', asid: 0 },
    { op: 'switchMm', asid: 0 },
    { op: 'mmap', asid: 0, start: 0, pages: 4, write: true },
  ],
  script: [
    { op: 'waitSteps', steps: 10 },
    { op: 'munmap', asid: 0, start: 0, end: 4 },
  ],
  workload: { spaces: [0], ranges: [{ start: 0, pages: 4 }], mix: { load: 1 } },
  combinations: [{ arch: 'linux-6', hw: 'x86', expect: 'clean' }],
};

/** The source of a scenario file exporting `s`, its `workload` returned by the workload function (or `workloadBody` as that function's body). */
export function scenarioSource(s: Json, workloadBody?: string): string {
  const { workload, ...rest } = s;
  const fn = workloadBody !== undefined ? `(cpu, cpus) => { ${workloadBody} }` : `(cpu, cpus) => (${jsLiteral(workload)})`;
  return `export default { ...${jsLiteral(rest)}, ${'workload' in s || workloadBody !== undefined ? `workload: ${fn}` : ''} };\n`;
}

const clone = (s: Json): Json => structuredClone(s);

/** Set `path` (keys and indices) in a copy of BASE to `value`; undefined deletes it. */
function set(path: (string | number)[], value: unknown): Json {
  const s = clone(BASE);
  let at = s as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (value === undefined) delete at[last];
  // An own key even when it is '__proto__' (an assignment would set the prototype instead).
  else Object.defineProperty(at, last, { value, enumerable: true, writable: true, configurable: true });
  return s;
}

const label = (path: (string | number)[]): string => path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').slice(1);

const anyString = fc.string({ maxLength: 10 });
const notNumber = fc.oneof(anyString, fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }), fc.constant({}));
const notString = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.constant([]), fc.constant({ a: 1 }));
const notArray = fc.oneof(fc.integer(), anyString, fc.boolean(), fc.constant(null), fc.constant({ 0: 1 }));
const notObject = fc.oneof(fc.integer(), anyString, fc.boolean(), fc.constant(null), fc.constant([1]));
const notInteger = fc.oneof(fc.constantFrom(0.5, 1.5, NaN, Infinity, -Infinity), fc.double({ noInteger: true }));

/** Fields and values of the wrong type for them. */
const WRONG_TYPE: [(string | number)[], fc.Arbitrary<unknown>][] = [
  [['name'], notString],
  [['title'], notString],
  [['cpus'], notNumber],
  [['machine'], fc.oneof(fc.integer(), anyString, fc.boolean(), fc.constant([1]))],
  [['machine', 'frames'], notNumber],
  [['machine', 'dtlb'], notObject],
  [['machine', 'flush'], notString],
  [['machine', 'leafDropsWalkCache'], fc.oneof(fc.integer(), anyString, fc.constant(null))],
  [['setup'], notArray],
  [['script'], notArray],
  [['setup', 0], notObject],
  [['setup', 2, 'pages'], notNumber],
  [['setup', 2, 'write'], fc.oneof(fc.integer(), anyString, fc.constant(null))],
  [['script', 1, 'end'], notNumber],
  [['script', 0, 'steps'], notNumber],
  [['combinations'], notArray],
  [['combinations', 0, 'arch'], notString],
  [['combinations', 0, 'hw'], notString],
  [['combinations', 0, 'expect'], fc.oneof(fc.integer(), fc.boolean(), fc.constant([]), anyString.filter((x) => x !== 'caught' && x !== 'clean'))],
  [['iterations'], notNumber],
  [['batchCapacity'], notNumber],
  [['tableBatchAlloc'], fc.oneof(fc.integer(), anyString.filter((x) => x !== 'ok' && x !== 'fails'))],
  [['workload'], notObject],
  [['workload', 'spaces'], notArray],
  [['workload', 'ranges'], notArray],
  [['workload', 'mix'], fc.oneof(fc.integer(), anyString, fc.boolean(), fc.constant([1]))],
  [['workload', 'mix', 'load'], notNumber],
  [['workload', 'steps'], notNumber],
  [['workload', 'gupGap'], notNumber],
  [['workload', 'irqOffSteps'], notNumber],
  [['workload', 'idleSteps'], notNumber],
  [['workload', 'speculation'], notNumber],
];

/** Fields and numbers outside what they allow. */
const OUT_OF_RANGE: [(string | number)[], fc.Arbitrary<unknown>][] = [
  [['cpus'], fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 33 }), notInteger)],
  [['iterations'], fc.oneof(fc.integer({ max: 0 }), notInteger)],
  [['batchCapacity'], fc.oneof(fc.integer({ max: 0 }), notInteger)],
  [['machine', 'frames'], fc.oneof(fc.integer({ max: 7 }), fc.integer({ min: 1 << 24 }), notInteger)],
  [['machine', 'wordsPerPage'], fc.constantFrom(0, 3, 8, 48, 512, NaN)],
  [['machine', 'walkCache'], fc.oneof(fc.integer({ max: -1 }), fc.integer({ min: 257 }), notInteger)],
  [['machine', 'dtlb'], fc.constantFrom({ sets: 3, ways: 1 }, { sets: 8, ways: 0 }, { sets: 8192, ways: 1 }, { sets: 8, ways: 65 })],
  [['machine', 'quantum'], fc.oneof(fc.integer({ max: 0 }), notInteger)],
  [['machine', 'ipiTimeoutMs'], fc.constantFrom(0, -1, NaN, Infinity)],
  [['machine', 'speculation'], fc.oneof(fc.double({ min: 1.0001, max: 1e9, noNaN: true }), fc.double({ max: -0.0001, min: -1e9, noNaN: true }), fc.constant(NaN))],
  [['machine', 'addressSpaces'], fc.constantFrom(0, -1, 1e6)],
  [['setup', 2, 'pages'], fc.oneof(fc.integer({ max: 0 }), notInteger)],
  [['setup', 0, 'asid'], fc.oneof(fc.integer({ max: -1 }), notInteger)],
  [['script', 1, 'end'], fc.oneof(fc.integer({ max: -1 }), notInteger)],
  [['script', 0, 'steps'], fc.oneof(fc.integer({ max: -1 }), notInteger)],
  [['workload', 'spaces'], fc.oneof(fc.constant([]), fc.constantFrom([7], [1.5], [-1], [0, 99], [NaN]))],
  [['workload', 'ranges'], fc.constantFrom([], [{ start: 0, pages: 0 }], [{ start: -1, pages: 4 }], [{ start: 0, pages: 1.5 }], [{ start: 1e9, pages: 4 }])],
  [['workload', 'mix', 'load'], fc.constantFrom(-1, NaN, Infinity)],
  [['workload', 'steps'], fc.oneof(fc.integer({ max: 0 }), notInteger)],
  [['workload', 'gupGap'], fc.oneof(fc.integer({ max: -1 }), notInteger)],
  [['workload', 'irqOffSteps'], fc.oneof(fc.integer({ max: 0 }), notInteger)],
  [['workload', 'idleSteps'], fc.oneof(fc.integer({ max: 0 }), notInteger)],
  [['workload', 'speculation'], fc.constantFrom(-0.5, 1.5, NaN)],
];

/** Required fields, each missing. */
const REQUIRED: (string | number)[][] = [['name'], ['setup'], ['script'], ['workload'], ['combinations'], ['combinations', 0, 'arch'], ['combinations', 0, 'hw'], ['combinations', 0, 'expect'], ['setup', 2, 'asid'], ['setup', 2, 'op'], ['script', 1, 'start'], ['workload', 'spaces'], ['workload', 'ranges']];

/** Where an unknown key can go (every one of them is strict). */
const OBJECTS: (string | number)[][] = [[], ['machine'], ['setup', 0], ['setup', 2], ['script', 0], ['script', 1], ['combinations', 0], ['workload'], ['workload', 'ranges', 0], ['workload', 'mix']];
const INHERITED = ['toString', 'constructor', 'hasOwnProperty', 'valueOf', '__proto__', 'isPrototypeOf'];
const KNOWN_KEYS = new Set(['name', 'title', 'description', 'domain', 'cpus', 'machine', 'batchCapacity', 'tableBatchAlloc', 'setup', 'script', 'kernelCpus', 'workload', 'combinations', 'iterations', 'sweepExempt', 'cost']);

function unknownKey(): fc.Arbitrary<FuzzCase> {
  // A key no schema knows: prefixed, so that it is never one of the real ones; or a name every object inherits.
  const key = fc.oneof(fc.string({ minLength: 1, maxLength: 8 }).map((k) => (KNOWN_KEYS.has(k) ? `x${k}` : `zz${k}`)), fc.constantFrom(...INHERITED));
  return fc.tuple(fc.constantFrom(...OBJECTS), key, fc.jsonValue()).map(([path, key, v]) => {
    return file(`an unknown key ${JSON.stringify(key)} in ${label(path) || 'the scenario'}`, set([...path, key], v));
  });
}

/** Scripts and setups that name what does not exist or cannot run. */
const BAD_COMMANDS: [string, Json][] = [
  ['an unknown op in the script', set(['script', 1], { op: 'munmapp', asid: 0, start: 0, end: 4 })],
  ['munmap of an address space never created', set(['script', 1], { op: 'munmap', asid: 3, start: 0, end: 4 })],
  ['an mmap overlapping the setup', set(['script', 1], { op: 'mmap', asid: 0, start: 0, pages: 4, write: true })],
  ['madvise of an address space never created', set(['script', 1], { op: 'madvise', asid: 5, start: 0, end: 4 })],
  ['shiftArgPages of a vma that is not there', set(['script', 1], { op: 'shiftArgPages', asid: 0, vmaStart: 9, shift: 1 })],
  ['a kernel point that does not exist', set(['script', 0], { op: 'holdPoint', point: 'nowhere', steps: 5 })],
  ['a waitPoint for a CPU with no kernel script', set(['script', 0], { op: 'waitPoint', cpu: 1, point: 'tlb_end_vma' })],
  ['a holdPoint with both steps and until', set(['script', 0], { op: 'holdPoint', point: 'tlb_end_vma', steps: 5, until: { cpu: 1, point: 'tlb_end_vma' } })],
  ['a waitPoint in the setup', set(['setup', 1], { op: 'waitPoint', cpu: 1, point: 'tlb_end_vma' })],
  ['a kernel CPU the run does not have', { ...clone(BASE), kernelCpus: [{ cpu: 5, script: [] }] }],
  ['a kernel CPU listed twice', { ...clone(BASE), cpus: 3, kernelCpus: [{ cpu: 1, script: [] }, { cpu: 1, script: [] }] }],
  ['a setup too big for the machine', set(['setup', 2], { op: 'mmap', asid: 0, start: 0, pages: 4000, write: true })],
  ['an unknown policy', set(['combinations', 0, 'arch'], 'linux-7')],
  ['an unknown flavour', set(['combinations', 0, 'hw'], 'vax')],
  ['an option the policy does not take', set(['combinations', 0, 'archOptions'], { itlb: 'always' })],
  ['a policy option value not listed', set(['combinations', 0, 'archOptions'], { tableFree: 'never' })],
  ['an unknown machine setting', set(['machine', 'tlbSize'], 64)],
  ['gup_fast under a policy without one', { ...set(['combinations', 0, 'arch'], 'arm-2.6.37'), workload: { spaces: [0], ranges: [{ start: 0, pages: 4 }], mix: { load: 1, gupFast: 1 } } }],
];

/** Whole files that are no scenario. */
const BAD_FILES: [string, string][] = [
  ['no default export', 'export const scenario = {};\n'],
  ['a default export that is a number', 'export default 42;\n'],
  ['a default export that is a string', "export default 'fuzz';\n"],
  ['a default export that is an array', 'export default [];\n'],
  ['a default export that is null', 'export default null;\n'],
  ['a syntax error', 'export default { name: ;\n'],
  ['an import of a module that does not exist', "import x from './no-such-module.mjs';\nexport default x;\n"],
  ['a throw at load time', "throw new Error('fuzz: thrown at load');\n"],
  ['a throw of a non-error at load time', "throw 'fuzz: a string';\n"],
  ['a workload function that throws', scenarioSource(BASE, "throw new Error('fuzz: workload exploded');")],
  ['a workload function that returns nothing', scenarioSource(BASE, 'return undefined;')],
  ['a workload function that returns a number', scenarioSource(BASE, 'return 7;')],
];

function file(what: string, s: Json): FuzzCase {
  return text(what, scenarioSource(s));
}
/** Every case has a directory of its own, so the same file name is a new module each time. */
function text(what: string, source: string): FuzzCase {
  return { what: `scenario file: ${what}`, argv: ['run', '{dir}/scenario.mjs', '--iterations', '1'], files: { 'scenario.mjs': source } };
}

/** A bad scenario file, run by `smpsim run`. */
export const badScenarios: fc.Arbitrary<FuzzCase> = fc.oneof(
  fc.oneof(...WRONG_TYPE.map(([path, v]) => v.map((x) => file(`${label(path)} of the wrong type (${jsLiteral(x)})`, set(path, x))))),
  fc.oneof(...OUT_OF_RANGE.map(([path, v]) => v.map((x) => file(`${label(path)} out of range (${jsLiteral(x)})`, set(path, x))))),
  fc.constantFrom(...REQUIRED).map((path) => file(`${label(path)} missing`, set(path, undefined))),
  unknownKey(),
  fc.constantFrom(...BAD_COMMANDS).map(([what, s]) => file(what, s)),
  fc.constantFrom(...BAD_FILES).map(([what, source]) => text(what, source)),
);
