import type { Cpu } from '../../machine/cpu.js';
import type { Machine } from '../../machine/machine.js';

/**
 * What a CPU thread runs in one iteration. A role is a function executed
 * synchronously in the CPU's worker, with the CPU's Cpu object and the
 * machine; it returns a structured-cloneable result.
 */
export type RoleFn = (cpu: Cpu, machine: Machine, args: any) => unknown;

const registry = new Map<string, RoleFn>();

export function registerRole(name: string, fn: RoleFn): void {
  registry.set(name, fn);
}

export function getRole(name: string): RoleFn {
  const fn = registry.get(name);
  if (!fn) throw new Error(`unknown CPU role '${name}' (known: ${[...registry.keys()].join(', ')})`);
  return fn;
}
