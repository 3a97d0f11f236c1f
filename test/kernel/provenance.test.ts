import { describe, expect, it } from 'vitest';
import { POLICIES, POLICY_REGISTRY, PROVENANCE, createPolicy, policyNames } from '../../src/kernel/index.js';
import { FLAVOURS, flavourNames } from '../../src/machine/flavours.js';
import type { Provenance } from '../../src/machine/provenance.js';

function expectComplete(p: Provenance): void {
  expect(p.version.trim()).not.toBe('');
  expect(p.tree.trim()).not.toBe('');
  expect(p.files.length).toBeGreaterThan(0);
  for (const f of p.files) expect(f.trim()).not.toBe('');
  for (const d of p.deviations) expect(d.trim()).not.toBe('');
}

describe('policy registry', () => {
  it.each(policyNames())('%s: provenance is complete and each option it declares has values and says what it selects', (name) => {
    expectComplete(PROVENANCE[name]);
    for (const o of POLICY_REGISTRY[name].options) {
      expect(o.values.length).toBeGreaterThan(1);
      expect(o.summary.trim()).not.toBe('');
      // The policy builds with each value.
      for (const v of o.values) expect(createPolicy(name, { [o.key]: v }).name).toBe(name);
    }
  });

  it('POLICIES, PROVENANCE and the registry name the same policies, and createPolicy builds each', () => {
    expect(Object.keys(POLICIES)).toEqual(Object.keys(POLICY_REGISTRY));
    expect(Object.keys(PROVENANCE)).toEqual(Object.keys(POLICY_REGISTRY));
    // An alias may build the policy under its canonical name.
    for (const name of policyNames()) expect(policyNames()).toContain(createPolicy(name).name);
  });
});

describe('hardware flavours', () => {
  it.each(flavourNames())('%s: provenance is complete', (name) => {
    expectComplete(FLAVOURS[name].provenance);
  });
});
