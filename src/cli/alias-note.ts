import { POLICY_ALIASES } from '../kernel/index.js';
import { writeErr } from './io.js';

const noted = new Set<string>();
/** Notes held until the command's inputs are all checked: a refused command prints only its one error line. */
let held: string[] = [];

/**
 * The registered policy name for `name`. An old name (POLICY_ALIASES) is
 * accepted and resolved, and the CLI says so once per name, in one line on
 * stderr (once the command's inputs are all checked: flushNotes), so that
 * scripts keep working and their authors learn the new name.
 */
export function resolveArchName(name: string): string {
  if (!Object.hasOwn(POLICY_ALIASES, name)) return name;
  const to = POLICY_ALIASES[name];
  if (!noted.has(name)) {
    noted.add(name);
    held.push(`note: policy '${name}' is now called '${to}' (the posted 2011 series, not a released 2.6.39); running it as '${to}'\n`);
  }
  return to;
}

/**
 * A command begins: nothing held, nothing noted yet. Once per name means once
 * per command, as a process runs one; a caller that runs many commands in
 * one process (runCli: the fuzzer, the tests) sees each say its note, as
 * each process would.
 */
export function beginNotes(): void {
  noted.clear();
  held = [];
}

/** Print the notes held back (the command's inputs were accepted). */
export function flushNotes(): void {
  for (const n of held) writeErr(n);
  held = [];
}

/** Forget the notes held back (the command was refused: its error is the one line). */
export function dropNotes(): void {
  held = [];
}
