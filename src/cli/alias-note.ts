import { POLICY_ALIASES } from '../kernel/index.js';

const noted = new Set<string>();

/**
 * The registered policy name for `name`. An old name (POLICY_ALIASES) is
 * accepted and resolved, and the CLI says so once per name, in one line on
 * stderr, so that scripts keep working and their authors learn the new name.
 */
export function resolveArchName(name: string): string {
  if (!Object.hasOwn(POLICY_ALIASES, name)) return name;
  const to = POLICY_ALIASES[name];
  if (!noted.has(name)) {
    noted.add(name);
    process.stderr.write(`note: policy '${name}' is now called '${to}' (the posted 2011 series, not a released 2.6.39); running it as '${to}'\n`);
  }
  return to;
}
