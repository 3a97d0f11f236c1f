import { closeSync, existsSync, lstatSync, openSync, readlinkSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ScenarioError } from './scenario-schema.js';

/**
 * Output files (traces, plots): checked before anything runs, written whole
 * or not at all. A path that names a symbolic link writes the file the link
 * points to (the link stays); a path ending in '/' names a directory, not a
 * file; a target directory is tried by creating (and removing) a file in it,
 * so a directory nothing can be written to (/proc, a read-only mount) is
 * found now, not after the run.
 */

/** Where `path` really writes: the link's target for a symbolic link, else the absolute path. */
export function outputTarget(path: string): string {
  const abs = resolve(path);
  try {
    if (!lstatSync(abs).isSymbolicLink()) return abs;
  } catch {
    return abs; // no file yet: written where it says
  }
  try {
    return realpathSync(abs);
  } catch {
    // A dangling link: the file it names, to be created.
    return resolve(dirname(abs), readlinkSync(abs));
  }
}

/** Refuse, as the user's error (exit 2, one line), an output file that cannot be written. */
export function checkOutputFile(path: string, what = 'output'): string {
  if (/[/\\]$/.test(path)) throw new ScenarioError(`cannot write ${what} '${path}': it names a directory (it ends in '/')`);
  const target = outputTarget(path);
  const dir = dirname(target);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ScenarioError(`cannot write ${what} '${path}': directory ${dir} does not exist`);
  if (existsSync(target) && statSync(target).isDirectory()) throw new ScenarioError(`cannot write ${what} '${path}': it is a directory`);
  const probe = join(dir, `.${basename(target)}.${process.pid}.probe`);
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (e) {
    throw new ScenarioError(`cannot write ${what} '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} creating a file in ${dir}`);
  }
  return target;
}

/** Write `text` to `path` whole or not at all (a temporary file beside it, then rename); through a symbolic link. */
export function writeFileAtomic(path: string, text: string): void {
  const file = outputTarget(path);
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already gone
    }
    throw e;
  }
}
