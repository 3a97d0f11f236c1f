import type { PolicyOptions } from '../kernel/index.js';
import { POLICY_OPTIONS, POLICY_REGISTRY, isPolicyName, policiesTaking, policyNames } from '../kernel/index.js';
import { resolveArchName } from './alias-note.js';
import { UsageError } from './errors.js';
import { unknownNameMessage } from '../harness/suggest.js';

/**
 * How `--arch` names a policy with options:
 *
 *   NAME[:KEY=VALUE[:KEY=VALUE...]]       e.g. generic-range:itlb=always
 *
 * Several specs are separated by commas (`--arch arm-2.6.37,linux-6:nested=full`)
 * or given by repeating --arch. Reports print a combination in the same
 * form (archLabel(): "generic-range:itlb=always"); archSpec() turns a
 * combination back into it, for reproduction commands.
 */
export interface ArchSpec {
  arch: string;
  archOptions: PolicyOptions;
}

export function parseArchSpec(text: string): ArchSpec {
  const [name, ...opts] = text.trim().split(':');
  if (!name) throw new UsageError(`empty architecture in --arch '${text}'`);
  if (!isPolicyName(name)) throw new UsageError(unknownNameMessage('architecture policy', name, policyNames()));
  const arch = resolveArchName(name);
  const takes = POLICY_REGISTRY[arch].options;
  const archOptions: Record<string, unknown> = {};
  for (const o of opts) {
    const eq = o.indexOf('=');
    if (eq <= 0) throw new UsageError(`policy option '${o}' in --arch '${text}' is not KEY=VALUE (e.g. generic-range:itlb=always)`);
    const rawKey = o.slice(0, eq).trim();
    const raw = o.slice(eq + 1).trim();
    const known = [...POLICY_OPTIONS.keys()];
    const key = known.find((k) => k.toLowerCase() === rawKey.toLowerCase().replace(/-/g, ''));
    if (!key) throw new UsageError(unknownNameMessage('policy option', rawKey, known));
    const spec = takes.find((t) => t.key === key);
    if (!spec) throw new UsageError(`${arch} takes no option ${key} (${takes.length ? `its options: ${takes.map((t) => t.key).join(', ')}` : 'it takes none'}; ${key} is an option of ${policiesTaking(key).join(', ')})`);
    const value = spec.values.find((a) => String(a) === raw);
    if (value === undefined) throw new UsageError(`policy option ${key} takes ${spec.values.map(String).join(' or ')}, not '${raw}'`);
    archOptions[key] = value;
  }
  return { arch, archOptions: archOptions as PolicyOptions };
}

/** Every --arch occurrence, comma lists split, parsed. */
export function parseArchList(values: readonly string[]): ArchSpec[] {
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v.length > 0)
    .map(parseArchSpec);
}

/** A combination in --arch syntax: "generic-range:itlb=always". */
export function archSpec(c: { arch: string; archOptions?: PolicyOptions | Record<string, unknown> }): string {
  return [c.arch, ...Object.entries(c.archOptions ?? {}).map(([k, v]) => `${k}=${String(v)}`)].join(':');
}
