import { arm2637 } from './arm-2.6.37.js';
import { arm2638 } from './arm-2.6.38.js';
import { generic2011Series } from './generic-2011-series.js';
import { genericRange } from './generic-range.js';
import { ia642638 } from './ia64-2.6.38.js';
import { linux6 } from './linux-6.js';
import { sh2638 } from './sh-2.6.38.js';
import type { PolicyFactory, PolicyOptions, TlbPolicy } from './types.js';

export type { PolicyFactory, PolicyOptions, TlbPolicy } from './types.js';

/** Architecture policies by name (domain.md section 3, plus today's generic code). */
export const POLICIES: Readonly<Record<string, PolicyFactory>> = Object.freeze({
  'arm-2.6.37': arm2637,
  'arm-2.6.38': arm2638,
  'sh-2.6.38': sh2638,
  'ia64-2.6.38': ia642638,
  'generic-2011-series': generic2011Series,
  'generic-range': genericRange,
  'linux-6': linux6,
});

/**
 * Old names still accepted wherever a policy name is (CLI --arch, scenario
 * files, replay tokens), each resolving to its new name. 'generic-2.6.39'
 * named what is the posted 2011 series, never a released 2.6.39.
 */
export const POLICY_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  'generic-2.6.39': 'generic-2011-series',
});

/** The registered names (aliases excluded). */
export function policyNames(): string[] {
  return Object.keys(POLICIES);
}

/** The registered name `name` stands for (itself unless it is an alias). */
export function canonicalPolicyName(name: string): string {
  return Object.hasOwn(POLICY_ALIASES, name) ? POLICY_ALIASES[name] : name;
}

/** Whether `name` is a registered policy or an alias of one. */
export function isPolicyName(name: string): boolean {
  return Object.hasOwn(POLICIES, canonicalPolicyName(name));
}

/** A fresh policy object by name (or alias); throws naming the known ones. */
export function createPolicy(name: string, opts?: PolicyOptions): TlbPolicy {
  const f = Object.hasOwn(POLICIES, canonicalPolicyName(name)) ? POLICIES[canonicalPolicyName(name)] : undefined;
  if (!f) throw new Error(`unknown mmu_gather policy '${name}' (known: ${policyNames().join(', ')})`);
  return f(opts);
}
