import { flushNotes } from './alias-note.js';

/**
 * How a command runs: for real, or only as far as checking its inputs
 * (checkOnly: the fuzzer's in-process runs, which must see every refusal a
 * real run would, and nothing run).
 */
export interface CliContext {
  checkOnly: boolean;
  /** The command line (after node and the script), for the provenance of the reports written; default: process.argv's. */
  argv?: readonly string[];
}

export const RUN_FOR_REAL: CliContext = { checkOnly: false };

/**
 * Each command calls this once every input is checked, before anything runs
 * or is printed: the notes held back until then are printed (alias-note.ts),
 * and it says whether to stop here (checkOnly).
 */
export function inputsChecked(ctx: CliContext): boolean {
  flushNotes();
  return ctx.checkOnly;
}
