import { flushNotes } from './alias-note.js';
import { CpuPool } from '../harness/pool.js';
import { atMost } from './exit.js';

/**
 * How a command runs: for real, or only as far as checking its inputs
 * (checkOnly: the fuzzer's in-process runs, which must see every refusal a
 * real run would, and nothing run).
 */
export interface CliContext {
  checkOnly: boolean;
  /** The command line (after node and the script), for the provenance of the reports written; default: process.argv's. */
  argv?: readonly string[];
  /**
   * CPU threads to run on instead of starting a pool of its own: a caller
   * that runs many commands in one process (the tests' in-process CLI) keeps
   * one warm pool for all of them. The command leaves it open.
   */
  pool?: CpuPool;
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

/**
 * The CPU pool a command runs on: the context's, or one of its own, which
 * `release` closes (waiting at most 5 s: a stuck thread must not hang the
 * CLI). The context's pool is its owner's to close.
 */
export function commandPool(ctx: CliContext): { pool: CpuPool; release: () => Promise<void> } {
  if (ctx.pool) return { pool: ctx.pool, release: async () => {} };
  const pool = new CpuPool();
  return { pool, release: () => atMost(pool.close(), 5000) };
}
