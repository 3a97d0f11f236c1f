import { describe, expect, it } from 'vitest';
import { KERNEL_POINTS, POLICY_OPTIONS, POLICY_REGISTRY, SYSCALL_NAMES, policyNames } from '../../src/kernel/index.js';
import { FLAVOURS, flavourNames } from '../../src/machine/flavours.js';
import type { Provenance } from '../../src/machine/provenance.js';
import { builtinScenarios } from '../../scenarios/index.js';
import { cli, cliInProcess } from './helpers.js';

/** `smpsim list ...` in this process (see cliInProcess); the first test below runs the real process. */
const list = (args: string[]) => cliInProcess(args, { checkOnly: false });

/** Every field of a provenance record, as the text output must show it. */
function provenanceTexts(p: Provenance): string[] {
  return [p.version, p.tree, ...(p.commit ? [p.commit] : []), ...p.files, ...p.deviations];
}

describe('smpsim list', () => {
  it('prints a section of kernel points, one line each, and the system calls a point may name', async () => {
    const r = await cli(['list']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const section = r.stdout.slice(r.stdout.indexOf('Kernel points'));
    expect(section.length).toBeLessThan(r.stdout.length);
    const rows = section.split('\n').map((l) => l.trim().split(/\s{2,}/));
    for (const p of KERNEL_POINTS) expect(rows, p.name).toContainEqual([p.name, p.where]);
    expect(section).toContain(`system calls: ${SYSCALL_NAMES.slice(1).join(', ')}`);
    expect(section).toContain('docs/scenarios.md');
  });

  it('lists every shipped scenario (those with several kernel CPUs too) and, with --json, the kernel points', async () => {
    const r = await list(['list']);
    for (const s of builtinScenarios()) expect(r.stdout).toMatch(new RegExp(`^  ${s.name}\\s`, 'm'));
    expect(builtinScenarios().filter((s) => s.kernelCpus?.length).map((s) => s.name)).toEqual(expect.arrayContaining(['parallel-madv-dontneed', 'nested-gather-freed-tables']));
    const doc = JSON.parse((await list(['list', '--json'])).stdout);
    expect(doc.kernelPoints).toEqual(KERNEL_POINTS.map((p) => ({ name: p.name, where: p.where })));
    expect(doc.syscalls).toEqual(SYSCALL_NAMES.slice(1));
  });
});

describe('smpsim list --arch NAME', () => {
  it.each(policyNames())('%s: prints its provenance and the options it reads', async (name) => {
    const r = await list(['list', '--arch', name]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const entry = POLICY_REGISTRY[name];
    for (const text of provenanceTexts(entry.provenance)) expect(r.stdout).toContain(text);
    for (const o of entry.options) expect(r.stdout).toContain(`${o.key}=${o.values.map(String).join('|')}: ${o.summary}`);
    // Options the policy does not read are not offered for it.
    for (const key of POLICY_OPTIONS.keys()) if (!entry.options.some((o) => o.key === key)) expect(r.stdout).not.toContain(`${key}=`);
  });

  it.each(policyNames())('%s --json: the same record as a JSON document', async (name) => {
    const r = await list(['list', '--arch', name, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    const entry = POLICY_REGISTRY[name];
    expect(doc.policy.name).toBe(name);
    expect(doc.policy.provenance).toEqual(entry.provenance);
    expect(doc.policy.options.map((o: { key: string }) => o.key)).toEqual(entry.options.map((o) => o.key));
    expect(doc.flavour).toBeUndefined();
  });

  it('accepts the --arch spelling with options (NAME:KEY=VALUE), as `run` does', async () => {
    const name = policyNames().find((n) => POLICY_REGISTRY[n].options.length > 0)!;
    const o = POLICY_REGISTRY[name].options[0];
    const r = await list(['list', '--arch', `${name}:${o.key}=${String(o.values[0])}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(POLICY_REGISTRY[name].provenance.tree);
  });
});

describe('smpsim list --hw NAME', () => {
  it.each(flavourNames())('%s: prints its parameters and provenance', async (name) => {
    const r = await list(['list', '--hw', name]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(FLAVOURS[name].description);
    for (const text of provenanceTexts(FLAVOURS[name].provenance)) expect(r.stdout).toContain(text);
  });

  it.each(flavourNames())('%s --json: the same record as a JSON document', async (name) => {
    const r = await list(['list', '--hw', name, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.flavour).toEqual({ name, description: FLAVOURS[name].description, config: FLAVOURS[name].config, provenance: FLAVOURS[name].provenance });
    expect(doc.policy).toBeUndefined();
  });

  it('--arch and --hw together print both', async () => {
    const [arch] = policyNames();
    const [hw] = flavourNames();
    const r = await list(['list', '--arch', arch, '--hw', hw, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.policy.name).toBe(arch);
    expect(doc.flavour.name).toBe(hw);
  });
});

describe('smpsim list with an unknown name', () => {
  // A registered name with its last character dropped: a typo the suggestion must catch.
  const cases: [string, string, string][] = [
    ['--arch', policyNames()[0].slice(0, -1), policyNames()[0]],
    ['--hw', flavourNames()[0].slice(0, -1), flavourNames()[0]],
  ];
  it.each(cases)('%s %s: one line naming the closest, exit 2, nothing on stdout', async (flag, typo, meant) => {
    for (const json of [[], ['--json']]) {
      const r = await list(['list', flag, typo, ...json]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`'${typo}'`);
      expect(r.stderr).toMatch(new RegExp(`did you mean [^?]*'${meant.replace(/[.]/g, '\\.')}'`));
    }
  });

  it('a bad --hw is reported even when --arch is good, before anything is printed', async () => {
    const r = await list(['list', '--arch', policyNames()[0], '--hw', 'no-such-hardware']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });
});
