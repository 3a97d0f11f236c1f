import type { Provenance } from '../../machine/provenance.js';
import { arm2637, hardware as arm2637Hardware, provenance as arm2637Provenance } from './arm-2.6.37.js';
import { arm2638, options as arm2638Options, hardware as arm2638Hardware, provenance as arm2638Provenance } from './arm-2.6.38.js';
import { generic2011Series, hardware as generic2011SeriesHardware, provenance as generic2011SeriesProvenance } from './generic-2011-series.js';
import { genericRange, options as genericRangeOptions, hardware as genericRangeHardware, provenance as genericRangeProvenance } from './generic-range.js';
import { ia642638, options as ia642638Options, hardware as ia642638Hardware, provenance as ia642638Provenance } from './ia64-2.6.38.js';
import { linux6, options as linux6Options, hardware as linux6Hardware, provenance as linux6Provenance } from './linux-6.js';
import { sh2638, hardware as sh2638Hardware, provenance as sh2638Provenance } from './sh-2.6.38.js';
import type { PolicyFactory, PolicyOptionSpec, TlbPolicy } from './types.js';

export type { OptionsOf, PolicyFactory, PolicyOptionSpec, TlbPolicy } from './types.js';

/** One registered policy: how to build it, where it comes from, which options it takes. */
export interface PolicyEntry {
  /** Each factory takes its own options (OptionsOf its `options`); createPolicy passes them on. */
  factory: PolicyFactory<any>;
  provenance: Provenance;
  /** The options this policy takes, as its own file declares them. */
  options: readonly PolicyOptionSpec[];
  /**
   * The hardware flavours its kernel ran on. A combination with any other is
   * hypothetical: "what if this kernel's mmu_gather ran on that machine?",
   * useful (it is how the 2011 holes show on walk-cache hardware) but not a
   * statement about a system that existed; reports and `smpsim list` mark it.
   */
  hardware: readonly string[];
}

/**
 * The registry. Keeping the factory, the provenance and the options in one
 * entry means a policy cannot be registered without saying where it comes
 * from and what it takes: POLICIES, PROVENANCE, the option table and the
 * PolicyOptions type below derive from it.
 */
const REGISTRY = {
  'arm-2.6.37': { factory: arm2637, provenance: arm2637Provenance, hardware: arm2637Hardware, options: [] },
  'arm-2.6.38': { factory: arm2638, provenance: arm2638Provenance, hardware: arm2638Hardware, options: arm2638Options },
  'sh-2.6.38': { factory: sh2638, provenance: sh2638Provenance, hardware: sh2638Hardware, options: [] },
  'ia64-2.6.38': { factory: ia642638, provenance: ia642638Provenance, hardware: ia642638Hardware, options: ia642638Options },
  'generic-2011-series': { factory: generic2011Series, provenance: generic2011SeriesProvenance, hardware: generic2011SeriesHardware, options: [] },
  'generic-range': { factory: genericRange, provenance: genericRangeProvenance, hardware: genericRangeHardware, options: genericRangeOptions },
  'linux-6': { factory: linux6, provenance: linux6Provenance, hardware: linux6Hardware, options: linux6Options },
} as const satisfies Record<string, PolicyEntry>;

export const POLICY_REGISTRY: Readonly<Record<string, PolicyEntry>> = Object.freeze(REGISTRY);

type Spec = (typeof REGISTRY)[keyof typeof REGISTRY]['options'][number];

/** Every option any policy takes: `{ key?: value }` (each policy reads the ones it declares). */
export type PolicyOptions = { [S in Spec as S['key']]?: S['values'][number] };

/**
 * Every option key with the values it takes and what it selects, merged over
 * the policies (two policies declaring one key must agree on its values).
 */
export const POLICY_OPTIONS: ReadonlyMap<string, PolicyOptionSpec> = (() => {
  const m = new Map<string, PolicyOptionSpec>();
  for (const [name, e] of Object.entries(POLICY_REGISTRY)) {
    for (const o of e.options) {
      const seen = m.get(o.key);
      if (seen && seen.values.join() !== o.values.join()) throw new Error(`policy ${name} declares option ${o.key} with values ${o.values.join('|')}, another policy with ${seen.values.join('|')}`);
      m.set(o.key, o);
    }
  }
  return m;
})();

/** The policies that take option `key`. */
export function policiesTaking(key: string): string[] {
  return Object.entries(POLICY_REGISTRY)
    .filter(([, e]) => e.options.some((o) => o.key === key))
    .map(([n]) => n);
}

function project<T>(pick: (e: PolicyEntry) => T): Readonly<Record<string, T>> {
  return Object.freeze(Object.fromEntries(Object.entries(POLICY_REGISTRY).map(([name, e]) => [name, pick(e)])));
}

/** Architecture policies by name (the 2011 variants, plus today's generic code). */
export const POLICIES: Readonly<Record<string, PolicyEntry['factory']>> = project((e) => e.factory);

/** Where each policy comes from: kernel version, tree, files, commit, deviations. */
export const PROVENANCE: Readonly<Record<string, Provenance>> = project((e) => e.provenance);

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

/** How policy `name`'s kernel does get_user_pages_fast (null: it has no lockless one). */
export function gupFastOf(name: string, opts?: PolicyOptions): TlbPolicy['gupFast'] {
  return createPolicy(name, opts).gupFast;
}
