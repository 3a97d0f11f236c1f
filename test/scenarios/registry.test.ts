import { describe, expect, it } from 'vitest';
import { builtinScenarios, findScenario, scenarioNames } from '../../scenarios/index.js';
import { selectCombinations } from '../../src/harness/combinations.js';
import { archLabel } from '../../src/harness/scenario.js';

describe('scenario registry', () => {
  it('holds the shipped scenarios under unique names', () => {
    expect(scenarioNames()).toEqual(['arm-delayed-free', 'speculative-table-walk', 'shift-arg-pages', 'gup-fast-vs-table-free', 'itlb-exec-policy', 'parallel-madv-dontneed', 'nested-gather-freed-tables', 'rcu-table-free-fallback', 'invlpgb-gup-fast', 'mremap-vs-truncate', 'lazy-tlb-table-free', 'khugepaged-vs-gup-fast']);
    for (const s of builtinScenarios()) expect(findScenario(s.name)).toBe(s);
  });

  for (const s of builtinScenarios()) {
    it(`${s.name}: every combination names a known policy and flavour, once`, () => {
      expect(selectCombinations(s)).toHaveLength(s.combinations.length);
      const labels = s.combinations.map((c) => `${archLabel(c)} / ${c.hw}`);
      expect(new Set(labels).size).toBe(labels.length);
      expect(s.combinations.length).toBeGreaterThan(0);
      // Workloads are plain data the harness can send to a worker.
      for (let cpu = 1; cpu < (s.cpus ?? 4); cpu++) expect(structuredClone(s.workload(cpu, s.cpus ?? 4))).toEqual(s.workload(cpu, s.cpus ?? 4));
    });
  }
});
