import { describe, expect, it } from 'vitest';
import { BadTokenError, decodeReplay, encodeReplay, type ReplaySpec } from '../../src/harness/replay-token.js';
import { MAX_PCT_DEPTH } from '../../src/harness/pct.js';

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
  it('round-trip every field', () => {
    expect(decodeReplay(encodeReplay(good))).toEqual(good);
    const withOptions = { ...good, archOptions: { nested: 'range-drops-freed-tables' as const } };
    expect(decodeReplay(encodeReplay(withOptions))).toEqual(withOptions);
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
