import { isPolicyName } from '../kernel/index.js';
import { selectCombinations } from '../harness/combinations.js';
import { type Combination, type Scenario } from '../harness/scenario.js';
import { unknownNameMessage } from '../harness/suggest.js';
import { isFlavourName, flavourNames } from '../machine/flavours.js';
import { resolveArchName } from './alias-note.js';
import type { ArchSpec } from './arch-spec.js';
import { UsageError } from './errors.js';

export function checkHw(hw: string): string {
  if (!isFlavourName(hw)) throw new UsageError(unknownNameMessage('hardware flavour', hw, flavourNames()));
  return hw;
}

/**
 * The combinations `smpsim run` covers: the harness's one selector
 * (src/harness/combinations.ts) over the --arch specs and --hw. An old policy
 * name in the scenario file gets the CLI's one-line note.
 */
export function chooseCombinations(scenario: Scenario, specs: ArchSpec[] | undefined, hw: string | undefined): Combination[] {
  for (const c of scenario.combinations) if (isPolicyName(c.arch)) resolveArchName(c.arch);
  return selectCombinations(scenario, specs, hw);
}
