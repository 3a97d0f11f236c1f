import { type PolicyOptions, canonicalPolicyName, policyNames } from '../kernel/index.js';
import { isFlavourName, flavourNames } from '../machine/flavours.js';
import { type Combination, type Scenario, archLabel } from './scenario.js';
import { ScenarioError } from './scenario-schema.js';
import { unknownNameMessage } from './suggest.js';

/** A policy to run, with options or without (then: with whatever options the scenario declares). */
export interface ArchChoice {
  arch: string;
  archOptions?: PolicyOptions;
}

/** Same options (order-insensitive; undefined values ignored). */
export function sameOptions(a: PolicyOptions | undefined, b: PolicyOptions | undefined): boolean {
  const ea = Object.entries(a ?? {}).filter(([, v]) => v !== undefined);
  const eb = Object.entries(b ?? {}).filter(([, v]) => v !== undefined);
  return ea.length === eb.length && ea.every(([k, v]) => (b as Record<string, unknown>)[k] === v);
}

/**
 * The one combination selector: which combinations a run covers.
 *
 * No policies: the scenario's declared combinations (only those on `hw` if
 * given; if it declares none on that hardware, each of its policies on it,
 * without expectation).
 *
 * With policies: for each, the declared combinations of that policy (one
 * without options matches the policy with any options; with options, only
 * equal ones), restricted to `hw`; if there are none, the policy on `hw`, or
 * on every hardware the scenario uses, without expectation.
 *
 * Old policy names run, and report, under their new ones. The same
 * combination asked twice runs once. Throws a ScenarioError (a user error)
 * when nothing is left or a name is unknown.
 */
export function selectCombinations(scenario: Scenario, policies?: readonly ArchChoice[], hw?: string): Combination[] {
  const combos = scenario.combinations.map((c) => ({ ...c, arch: canonicalPolicyName(c.arch) }));
  const declared = combos.filter((c) => !hw || c.hw === hw);
  const scenarioHws = [...new Set(combos.map((c) => c.hw))];
  const hws = hw ? [hw] : scenarioHws;
  let out: Combination[];
  if (!policies || policies.length === 0) {
    if (declared.length) out = declared;
    else {
      const seen = new Map<string, Combination>();
      for (const c of combos) seen.set(archLabel(c), c);
      out = [...seen.values()].flatMap((c) => hws.map((h) => ({ arch: c.arch, archOptions: c.archOptions, hw: h, expect: null })));
    }
  } else {
    out = policies.flatMap((p): Combination[] => {
      const arch = canonicalPolicyName(p.arch);
      const opts = p.archOptions && Object.keys(p.archOptions).length ? p.archOptions : undefined;
      const matches = declared.filter((c) => c.arch === arch && (!opts || sameOptions(c.archOptions, opts)));
      if (matches.length) return matches;
      return hws.map((h) => ({ arch, archOptions: opts, hw: h, expect: null }));
    });
  }
  const unique = new Map<string, Combination>();
  for (const c of out) unique.set(`${archLabel(c)} / ${c.hw}`, c);
  const result = [...unique.values()];
  if (result.length === 0) throw new ScenarioError(`scenario '${scenario.name}' declares no combination to run${hw ? ` on ${hw}` : ''}; give --arch and --hw`);
  checkCombinations(scenario, result);
  return result;
}

/** Every combination names a known policy and hardware flavour (old policy names resolved). */
export function checkCombinations(scenario: Scenario, combos: readonly Combination[]): Combination[] {
  return combos.map((c) => {
    const arch = canonicalPolicyName(c.arch);
    if (!policyNames().includes(arch)) throw new ScenarioError(`scenario '${scenario.name}': ${unknownNameMessage('architecture policy', c.arch, policyNames())}`);
    if (!isFlavourName(c.hw)) throw new ScenarioError(`scenario '${scenario.name}': ${unknownNameMessage('hardware flavour', c.hw, flavourNames())}`);
    return { ...c, arch };
  });
}
