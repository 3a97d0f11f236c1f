import type { Scenario } from '../src/harness/scenario.js';
import armDelayedFree from './arm-delayed-free.js';

/** The scenarios that ship with smpsim, by name. */
export const SCENARIOS: readonly Scenario[] = [armDelayedFree];

export function scenarioNames(): string[] {
  return SCENARIOS.map((s) => s.name);
}

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
