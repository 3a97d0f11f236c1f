import type { MachineConfig } from './config.js';
import { SPECULATION } from './flavours/speculation.js';
import { ia64, ia64Provenance } from './flavours/ia64.js';
import { sh4, sh4Provenance } from './flavours/sh4.js';
import type { Provenance } from './provenance.js';

/**
 * Hardware flavours (domain.md section 3): how a flush reaches the other
 * CPUs, whether CPUs walk speculatively, whether they cache table pointers and
 * whether a leaf invalidate drops the walk-cache entries covering it.
 */
export interface HardwareFlavour {
  name: string;
  description: string;
  config: Partial<MachineConfig>;
}


export const FLAVOURS: Readonly<Record<string, HardwareFlavour>> = Object.freeze({
  arm11mpcore: {
    name: 'arm11mpcore',
    description: 'ARM11 MPCore (ARMv6 SMP): TLB maintenance is local, flushes go by IPI; no speculative walks, no walk cache',
    config: { flush: 'ipi', speculation: 0, walkCache: 0, leafDropsWalkCache: true },
  },
  'armv7-mp': {
    name: 'armv7-mp',
    description: 'ARMv7 with the multiprocessing extensions: hardware-broadcast TLB invalidation, speculative walks, a walk cache whose entries go with any invalidate inside their span',
    config: { flush: 'broadcast', speculation: SPECULATION, walkCache: 8, leafDropsWalkCache: true },
  },
  x86: {
    name: 'x86',
    description: 'x86: flushes go by IPI (INVLPG/CR3 are local); speculative walks; paging-structure caches dropped by INVLPG',
    config: { flush: 'ipi', speculation: SPECULATION, walkCache: 8, leafDropsWalkCache: true },
  },
  arm64: {
    name: 'arm64',
    description: 'arm64: broadcast TLBI; speculative walks; leaf-only invalidates (TLBI VALE1IS) leave walk-cache entries alone',
    config: { flush: 'broadcast', speculation: SPECULATION, walkCache: 8, leafDropsWalkCache: false },
  },
  sh4,
  ia64,
});

/** Provenance of the flavours that carry one so far (the others get theirs separately). */
export const FLAVOUR_PROVENANCE: Readonly<Record<string, Provenance>> = Object.freeze({
  sh4: sh4Provenance,
  ia64: ia64Provenance,
});

export function flavourNames(): string[] {
  return Object.keys(FLAVOURS);
}
