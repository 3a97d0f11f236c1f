import { POLICY_REGISTRY, canonicalPolicyName } from './index.js';

/** The flavours policy `arch` (or an old name of it) ran on; [] for one that never shipped (see PolicyEntry.hardware). */
export function hardwareOf(arch: string): readonly string[] {
  return POLICY_REGISTRY[canonicalPolicyName(arch)]?.hardware ?? [];
}

/** Whether the combination pairs a kernel with hardware it never ran on. */
export function isHypothetical(arch: string, hw: string): boolean {
  return !hardwareOf(arch).includes(hw);
}
