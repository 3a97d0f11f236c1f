import { isPolicyName, policyNames } from '../kernel/index.js';
import { resolveArchName } from './alias-note.js';
import { FLAVOURS, flavourNames } from '../machine/flavours.js';
import { type Combination, type Scenario, archLabel } from '../harness/scenario.js';
import { type ArchSpec, sameOptions } from './arch-spec.js';
import { UsageError } from './errors.js';
import { unknownNameMessage } from './suggest.js';

/** A combination to run; expect null when the scenario declares none for it. */
export type Selected = Combination;

export function checkHw(hw: string): string {
  if (!FLAVOURS[hw]) throw new UsageError(unknownNameMessage('hardware flavour', hw, flavourNames()));
  return hw;
}

/**
 * The combinations `smpsim run` covers.
 *
 * No --arch: the scenario's declared combinations (only those on --hw if
 * given; if it declares none on that hardware, each of its policies on it,
 * without expectation).
 *
 * With --arch: for each spec, the declared combinations of that policy (a spec
 * without options matches the policy with any options; with options, only
 * equal ones), restricted to --hw; if there are none, the spec on --hw, or on
 * every hardware the scenario uses, without expectation.
 */
export function chooseCombinations(scenario: Scenario, specs: ArchSpec[] | undefined, hw: string | undefined): Selected[] {
  // A scenario file may still use an old policy name: run it under the new one.
  const s: Scenario = { ...scenario, combinations: scenario.combinations.map((c) => (isPolicyName(c.arch) ? { ...c, arch: resolveArchName(c.arch) } : c)) };
  const declared = s.combinations.filter((c) => !hw || c.hw === hw);
  const scenarioHws = [...new Set(s.combinations.map((c) => c.hw))];
  const hws = hw ? [hw] : scenarioHws.length ? scenarioHws : [];
  let out: Selected[];
  if (!specs || specs.length === 0) {
    if (declared.length) out = declared.map((c) => ({ ...c }));
    else {
      const seen = new Map<string, Combination>();
      for (const c of s.combinations) seen.set(archLabel(c), c);
      out = [...seen.values()].flatMap((c) => hws.map((h) => ({ arch: c.arch, archOptions: c.archOptions, hw: h, expect: null })));
    }
  } else {
    out = specs.flatMap((spec): Selected[] => {
      const opts = Object.keys(spec.archOptions).length ? spec.archOptions : undefined;
      const matches = declared.filter((c) => c.arch === spec.arch && (!opts || sameOptions(c.archOptions, opts)));
      if (matches.length) return matches.map((c) => ({ ...c }));
      return hws.map((h) => ({ arch: spec.arch, archOptions: opts, hw: h, expect: null }));
    });
  }
  // The same combination asked twice runs once.
  const unique = new Map<string, Selected>();
  for (const c of out) unique.set(`${archLabel(c)} / ${c.hw}`, c);
  const result = [...unique.values()];
  if (result.length === 0) throw new UsageError(`scenario '${s.name}' declares no combination to run${hw ? ` on ${hw}` : ''}; give --arch and --hw`);
  for (const c of result) {
    if (!policyNames().includes(c.arch)) throw new UsageError(`scenario '${s.name}': ${unknownNameMessage('architecture policy', c.arch, policyNames())}`);
    checkHw(c.hw);
  }
  return result;
}
