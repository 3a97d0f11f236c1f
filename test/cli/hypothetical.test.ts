import { describe, expect, it } from 'vitest';
import { hardwareOf, isHypothetical, policyNames } from '../../src/kernel/index.js';
import { flavourNames } from '../../src/machine/flavours.js';
import { builtinScenarios } from '../../scenarios/index.js';
import { inProcessCli } from './helpers.js';

/** The CLI in this process (same main(), output and exit code), on a warm CPU pool. */
const cli = inProcessCli();

describe('hypothetical pairings (a kernel on hardware it never ran on)', () => {
  it('every policy has a hardware list, of known flavours; the never-merged ones have none', () => {
    for (const name of policyNames()) for (const hw of hardwareOf(name)) expect(flavourNames()).toContain(hw);
    expect(hardwareOf('generic-range')).toEqual([]);
    expect(hardwareOf('sh-2.6.38')).toEqual(['sh4']);
    expect(isHypothetical('sh-2.6.38', 'sh4')).toBe(false);
    expect(isHypothetical('sh-2.6.38', 'x86')).toBe(true);
    expect(isHypothetical('generic-2.6.39', 'x86')).toBe(true);
    expect(isHypothetical('linux-6', 'armv7-mp')).toBe(false);
  });

  it('the JSON report and the matrix mark them', async () => {
    const j = await cli(['run', 'arm-delayed-free', '--arch', 'sh-2.6.38', '--hw', 'x86', '--iterations', '1', '--cpus', '2', '--json']);
    expect(JSON.parse(j.stdout).combinations[0]).toMatchObject({ arch: 'sh-2.6.38', hw: 'x86', hypothetical: true });
    const m = await cli(['run', 'arm-delayed-free', '--arch', 'sh-2.6.38,linux-6', '--hw', 'x86', '--iterations', '1', '--cpus', '2']);
    const rows = m.stdout.split('\n');
    expect(rows.find((l) => l.includes('sh-2.6.38 / x86'))).toContain('hypothetical');
    expect(rows.find((l) => l.includes('linux-6 / x86'))).toContain('real');
  });

  it('smpsim list marks each declared combination and names the hardware each policy ran on', async () => {
    const r = await cli(['list', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.policyHardware['ia64-2.6.38']).toEqual(['ia64']);
    expect(doc.policyAliases).toEqual({ 'generic-2.6.39': 'generic-2011-series' });
    for (const s of builtinScenarios()) {
      const listed = doc.scenarios.find((x: { name: string }) => x.name === s.name).combinations;
      expect(listed.map((c: { hypothetical: boolean }) => c.hypothetical)).toEqual(s.combinations.map((c) => isHypothetical(c.arch, c.hw)));
    }
    const text = await cli(['list']);
    expect(text.stdout).toMatch(/sh-2\.6\.38\s+sh4/);
    expect(text.stdout).toMatch(/generic-range\s+never shipped as modelled/);
  });
});
