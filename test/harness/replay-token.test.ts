import { describe, expect, it } from 'vitest';
import { BadTokenError, decodeReplay, encodeReplay, type ReplaySpec, scheduleOf } from '../../src/harness/replay-token.js';
import { MAX_PCT_DEPTH, pctSchedule } from '../../src/harness/pct.js';

const good: ReplaySpec = { scenario: 'arm-delayed-free', arch: 'linux-6', hw: 'arm64', cpus: 4, iteration: 3, seed: 12345, depth: 3, k: 2000 };
/** A token with raw fields, as a damaged or altered one could be. */
const raw = (a: unknown[]): string => `smp1.${Buffer.from(JSON.stringify(a)).toString('base64url')}`;
const fields = (o: Partial<Record<'arch' | 'opts' | 'hw' | 'cpus' | 'it' | 'seed' | 'depth' | 'k', unknown>>): unknown[] => [
  'arm-delayed-free',
  o.arch ?? 'linux-6',
  o.opts ?? 0,
  o.hw ?? 'arm64',
  o.cpus ?? 4,
  o.it ?? 0,
  o.seed ?? 1,
  o.depth ?? 3,
  o.k ?? -1,
];

describe('replay tokens', () => {
  it('round-trip every field, the schedule written out (smp2)', () => {
    const { k: _k, ...rest } = good;
    const token = encodeReplay(good);
    expect(token).toMatch(/^smp2\./);
    expect(decodeReplay(token)).toEqual({ ...rest, schedule: scheduleOf(good) });
    const withOptions = { ...good, archOptions: { nested: 'range-drops-freed-tables' as const } };
    expect(decodeReplay(encodeReplay(withOptions))).toMatchObject({ archOptions: withOptions.archOptions });
    // A shrunk schedule: explicit priorities, change points, workload budget and a file named with its hash.
    const shrunk: ReplaySpec = { ...rest, scenario: './mine.ts', scenarioSha256: 'abcdef0123456789', cpus: 2, schedule: { priorities: [5, 3], changes: [700] }, budget: 640 };
    expect(decodeReplay(encodeReplay(shrunk))).toEqual(shrunk);
  });

  it('still decodes smp1 tokens, replaying the schedule PCT draws for them', () => {
    const spec = decodeReplay(raw(fields({ k: 2000 })));
    expect(spec).toMatchObject({ scenario: 'arm-delayed-free', arch: 'linux-6', k: 2000, depth: 3 });
    expect(scheduleOf(spec)).toEqual(pctSchedule(1, 4, 3, 2000));
  });

  const raw2 = (o: Record<string, unknown>): string => `smp2.${Buffer.from(JSON.stringify({ s: 'arm-delayed-free', a: 'linux-6', h: 'arm64', c: 2, i: 0, e: 1, d: 3, p: [5, 4], x: [10], ...o })).toString('base64url')}`;
  it.each([
    [{ p: [5] }, /1 priorities for 2 CPUs/],
    [{ p: [5, 5] }, /priorities 5,5 \(distinct/],
    [{ p: [1, 4] }, /priorities 1,4 \(distinct, each above the 1 change points\)/],
    [{ x: [0] }, /change point 0/],
    [{ x: Array.from({ length: 17 }, (_, i) => i + 1), p: [30, 31] }, /17 change points/],
    [{ b: 0 }, /workload step budget 0/],
    [{ s: ['./x.ts', 'zz'] }, /unexpected content/],
    [{ extra: 1 }, /unexpected content/],
  ])('refuses a damaged smp2 schedule, naming it (%#)', (o, message) => {
    expect(() => decodeReplay(raw2(o))).toThrow(BadTokenError);
    expect(() => decodeReplay(raw2(o))).toThrow(message);
  });

  it.each([
    [fields({ arch: 'arm-9' }), /policy 'arm-9' is not one smpsim has \(known: .*linux-6/],
    [fields({ hw: 'vax' }), /hardware 'vax' is not a flavour smpsim has/],
    [fields({ opts: { nested: 'nope' } }), /option nested of linux-6 is "nope", not one of full, /],
    [fields({ opts: { itlb: 'always' } }), /linux-6 takes no option itlb/],
    [fields({ opts: [1] }), /policy options are not an object/],
    [fields({ cpus: 0 }), /0 CPUs \(from 1 to 32\)/],
    [fields({ cpus: 99 }), /99 CPUs/],
    [fields({ it: -5 }), /iteration -5/],
    [fields({ seed: -1 }), /seed -1 \(from 0 to 4294967295\)/],
    [fields({ seed: 2 ** 33 }), /seed 8589934592/],
    [fields({ depth: 0 }), new RegExp(`depth 0 \\(from 1 to ${MAX_PCT_DEPTH}\\)`)],
    [fields({ depth: 1e9 }), /depth 1000000000/],
    [fields({ k: 0 }), /step estimate 0/],
    [fields({ seed: 1.5 }), /unexpected content/],
    [fields({}).slice(0, 8), /unexpected content/],
  ])('refuses a damaged or altered field, naming it (%#)', (a, message) => {
    expect(() => decodeReplay(raw(a))).toThrow(BadTokenError);
    expect(() => decodeReplay(raw(a))).toThrow(message);
  });

  it('refuses a truncated token and one that is not a token', () => {
    const t = encodeReplay(good);
    expect(() => decodeReplay(t.slice(0, t.length - 7))).toThrow(BadTokenError);
    expect(() => decodeReplay('hello')).toThrow(/not a replay token/);
  });
});
