import { POLICY_REGISTRY } from '../../kernel/index.js';
import { FLAVOURS } from '../../machine/flavours.js';
import type { Provenance } from '../../machine/provenance.js';
import { parseArchSpec } from '../arch-spec.js';
import { checkHw } from '../combinations.js';
import { writeOut } from '../io.js';

/**
 * `smpsim list --arch NAME` / `--hw NAME`: where one policy or flavour comes
 * from (its provenance) and, for a policy, the options it reads. The names
 * are checked the way `smpsim run` checks them, so a typo gets the same
 * one-line did-you-mean and exit 2.
 */
export interface DescribeRequest {
  arch?: string;
  hw?: string;
  json?: boolean;
}

interface OptionDoc {
  key: string;
  values: string[];
  summary: string;
}

export function describeCommand(o: DescribeRequest): number {
  // Resolve both names before printing anything: a bad one is a usage error with no partial output.
  const policy = o.arch === undefined ? undefined : describePolicy(o.arch);
  const flavour = o.hw === undefined ? undefined : describeFlavour(o.hw);
  if (o.json) {
    writeOut(`${JSON.stringify({ ...(policy && { policy }), ...(flavour && { flavour }) }, null, 2)}\n`);
    return 0;
  }
  const blocks: string[] = [];
  if (policy) blocks.push(renderPolicy(policy));
  if (flavour) blocks.push(renderFlavour(flavour));
  writeOut(`${blocks.join('\n\n')}\n`);
  return 0;
}

function describePolicy(spec: string): { name: string; provenance: Provenance; options: OptionDoc[] } {
  // parseArchSpec accepts NAME[:KEY=VALUE...] and rejects unknown names with a suggestion.
  const { arch } = parseArchSpec(spec);
  const entry = POLICY_REGISTRY[arch];
  const options = entry.options.map((o) => ({ key: o.key, values: o.values.map(String), summary: o.summary }));
  return { name: arch, provenance: entry.provenance, options };
}

function describeFlavour(name: string): { name: string; description: string; config: object; provenance: Provenance } {
  const f = FLAVOURS[checkHw(name)];
  return { name: f.name, description: f.description, config: f.config, provenance: f.provenance };
}

function renderPolicy(p: ReturnType<typeof describePolicy>): string {
  const options = p.options.length ? p.options.map((o) => `\n    ${o.key}=${o.values.join('|')}: ${o.summary}`).join('') : ' none';
  return [`Architecture policy ${p.name}`, ...renderProvenance(p.provenance), `  options:${options}`].join('\n');
}

function renderFlavour(f: ReturnType<typeof describeFlavour>): string {
  const config = Object.entries(f.config)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
  return [`Hardware flavour ${f.name}`, `  ${f.description}`, `  config:     ${config}`, ...renderProvenance(f.provenance)].join('\n');
}

function renderProvenance(p: Provenance): string[] {
  return [
    `  version:    ${p.version}`,
    `  tree:       ${p.tree}`,
    ...(p.commit ? [`  commit:     ${p.commit}`] : []),
    '  files:',
    ...p.files.map((f) => `    - ${f}`),
    '  deviations:',
    ...(p.deviations.length ? p.deviations.map((d) => `    - ${d}`) : ['    (none)']),
  ];
}
