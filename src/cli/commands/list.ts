import { KERNEL_POINTS, POLICY_ALIASES, POLICY_OPTIONS, SYSCALL_NAMES, hardwareOf, isHypothetical, policyNames } from '../../kernel/index.js';
import { RACES } from '../../harness/races.js';
import { type Scenario, archLabel } from '../../harness/scenario.js';
import { FLAVOURS, flavourNames } from '../../machine/flavours.js';
import { builtinScenarios } from '../../../scenarios/index.js';
import { renderTable } from '../table.js';
import { writeOut } from '../io.js';

export interface ListOptions {
  json?: boolean;
}

/** `smpsim list`: scenarios, architecture policies, hardware flavours, and the kernel points a scenario script can wait for or hold. */
export function listCommand(o: ListOptions): number {
  const options = [...POLICY_OPTIONS.values()].map((o) => ({ key: o.key, values: o.values.map(String) }));
  const combos = (s: Scenario) =>
    s.combinations.map((c) => ({ arch: c.arch, archLabel: archLabel(c), hw: c.hw, expected: c.expect, hypothetical: isHypothetical(c.arch, c.hw) }));
  if (o.json) {
    const doc = {
      scenarios: builtinScenarios().map((s) => ({ name: s.name, title: s.title, domain: s.domain ?? null, combinations: combos(s) })),
      races: RACES.map((r) => ({ ...r, scenarios: scenariosOf(r.id) })),
      policies: policyNames(),
      policyHardware: Object.fromEntries(policyNames().map((p) => [p, hardwareOf(p)])),
      policyAliases: { ...POLICY_ALIASES },
      policyOptions: options,
      flavours: flavourNames().map((f) => ({ name: f, description: FLAVOURS[f].description })),
      kernelPoints: KERNEL_POINTS.map((p) => ({ name: p.name, where: p.where })),
      syscalls: SYSCALL_NAMES.slice(1),
    };
    writeOut(`${JSON.stringify(doc, null, 2)}\n`);
    return 0;
  }
  const out = [
    'Scenarios (smpsim run <name>):',
    indent(renderTable([{ header: 'name' }, { header: 'title' }], builtinScenarios().map((s) => [s.name, s.title]))),
    '',
    'The ten races of the class (docs/domain.md, section 5) and the scenarios that reproduce them:',
    indent(renderTable([{ header: 'race' }, { header: 'what goes wrong' }, { header: 'fixed by' }, { header: 'scenarios' }], RACES.map((r) => [r.id, r.name, r.fix, scenariosOf(r.id).join(', ') || 'none yet']))),
    '',
    'Declared combinations (hypothetical: the kernel never ran on that hardware):',
    indent(
      renderTable(
        [{ header: 'scenario' }, { header: 'combination' }, { header: 'expected' }, { header: 'pairing' }],
        builtinScenarios().flatMap((s) => combos(s).map((c) => [s.name, `${c.archLabel} / ${c.hw}`, c.expected ?? '-', c.hypothetical ? 'hypothetical' : 'real'])),
      ),
    ),
    '',
    'Architecture policies (--arch NAME[:KEY=VALUE...]) and the hardware each ran on:',
    indent(renderTable([{ header: 'name' }, { header: 'ran on' }], policyNames().map((p) => [p, hardwareOf(p).join(', ') || 'never shipped as modelled: every pairing hypothetical']))),
    `  options: ${options.map((x) => `${x.key}=${x.values.join('|')}`).join(', ')}`,
    `  old names still accepted: ${Object.entries(POLICY_ALIASES).map(([a, b]) => `${a} → ${b}`).join(', ')}`,
    '  what one models, its sources and deviations: smpsim list --arch NAME (and docs/fidelity.md)',
    '',
    'Hardware flavours (--hw NAME):',
    indent(renderTable([{ header: 'name' }, { header: 'description' }], flavourNames().map((f) => [f, FLAVOURS[f].description]))),
    '  the manual sections and kernel files behind one: smpsim list --hw NAME',
    '',
    "Kernel points (a scenario script's waitPoint / holdPoint: 'STEP', or 'SYSCALL/STEP' for one system call):",
    indent(renderTable([{ header: 'point' }, { header: 'where' }], KERNEL_POINTS.map((p) => [p.name, p.where]))),
    `  system calls: ${SYSCALL_NAMES.slice(1).join(', ')}`,
    '  the scenario format, kernel CPUs and the locks each call takes: docs/scenarios.md',
  ];
  writeOut(`${out.join('\n')}\n`);
  return 0;
}

/** The scenarios that model race `id` ('5.4'), by their `domain` field. */
function scenariosOf(id: string): string[] {
  return builtinScenarios().filter((s) => s.domain === id).map((s) => s.name);
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
