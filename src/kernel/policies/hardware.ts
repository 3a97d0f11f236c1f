import { canonicalPolicyName } from './index.js';

/**
 * The hardware each policy's kernel actually ran on, by flavour name. A
 * combination of a policy with any other flavour is hypothetical: it asks
 * "what if this kernel's mmu_gather ran on that machine?", a useful question
 * (it is how the seed's holes show on walk-cache hardware), but not a
 * statement about a system that existed. Reports and `smpsim list` mark such
 * combinations.
 *
 * - arm-2.6.37 / arm-2.6.38: ARM SMP of the time, ARM11 MPCore (ARMv6K) and
 *   Cortex-A9 MPCore (ARMv7 MP, e.g. OMAP4, Tegra 2).
 * - sh-2.6.38: SH-4/SH-4A SMP (software-refilled TLB).
 * - ia64-2.6.38: Itanium (the VHPT walker and ptc.ga).
 * - generic-2011-series: the series as posted in 2011 and as the seed
 *   describes it (range flush in tlb_end_vma that clears need_flush) never
 *   shipped: 3.0 merged a different version. Every pairing is hypothetical.
 * - generic-range: the range-tracking proposal was never merged. Every
 *   pairing is hypothetical.
 * - linux-6: today's generic code runs on x86, arm64 and 32-bit ARMv7 MP.
 */
export const POLICY_HARDWARE: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'arm-2.6.37': ['arm11mpcore', 'armv7-mp'],
  'arm-2.6.38': ['arm11mpcore', 'armv7-mp'],
  'sh-2.6.38': ['sh4'],
  'ia64-2.6.38': ['ia64'],
  'generic-2011-series': [],
  'generic-range': [],
  'linux-6': ['x86', 'arm64', 'armv7-mp'],
});

/** The flavours policy `arch` (or an old name of it) ran on; [] for one that never shipped. */
export function hardwareOf(arch: string): readonly string[] {
  return POLICY_HARDWARE[canonicalPolicyName(arch)] ?? [];
}

/** Whether the combination pairs a kernel with hardware it never ran on. */
export function isHypothetical(arch: string, hw: string): boolean {
  return !hardwareOf(arch).includes(hw);
}
