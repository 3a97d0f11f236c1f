import { arm2637 } from './arm-2.6.37.js';
import { arm2638 } from './arm-2.6.38.js';
import { generic2639 } from './generic-2.6.39.js';
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
  'generic-2.6.39': generic2639,
  'generic-range': genericRange,
  'linux-6': linux6,
});

export function policyNames(): string[] {
  return Object.keys(POLICIES);
}

/** A fresh policy object by name; throws naming the known ones. */
export function createPolicy(name: string, opts?: PolicyOptions): TlbPolicy {
  const f = POLICIES[name];
  if (!f) throw new Error(`unknown mmu_gather policy '${name}' (known: ${policyNames().join(', ')})`);
  return f(opts);
}

/** How policy `name`'s kernel does get_user_pages_fast (null: it has no lockless one). */
export function gupFastOf(name: string, opts?: PolicyOptions): TlbPolicy['gupFast'] {
  return createPolicy(name, opts).gupFast;
}
