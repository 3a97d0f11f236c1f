import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Scenario } from '../harness/scenario.js';
import { findScenario, scenarioNames } from '../../scenarios/index.js';
import { parseScenario } from '../harness/scenario-schema.js';
import { importBounded, loadTimeoutMs } from './bounded-import.js';
import { registerTypeScriptHooks } from './ts-register.js';
import { UsageError } from './errors.js';
import { unknownNameMessage } from '../harness/suggest.js';

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx']);
const JS_EXTENSIONS = new Set(['.js', '.mjs', '.cjs']);

function looksLikePath(arg: string): boolean {
  return /[\\/]/.test(arg) || TS_EXTENSIONS.has(extname(arg)) || JS_EXTENSIONS.has(extname(arg));
}

/**
 * A registered scenario by name, or the default export of a scenario file.
 * `ref` is how a replay finds it again: the name, or the file's absolute path;
 * `file`, for a file, that path and the sha256 of its bytes (what the file's
 * own imports hold is not in it).
 */
export async function loadScenario(arg: string): Promise<{ scenario: Scenario; ref: string; file?: { path: string; sha256: string } }> {
  const registered = findScenario(arg);
  if (registered && !looksLikePath(arg)) return { scenario: registered, ref: arg };
  const file = resolve(arg);
  if (!existsSync(file) || !statSync(file).isFile()) {
    if (looksLikePath(arg)) throw new UsageError(`scenario file '${arg}' not found`);
    throw new UsageError(unknownNameMessage('scenario', arg, scenarioNames()));
  }
  const ext = extname(file);
  let mod: Record<string, unknown>;
  if (TS_EXTENSIONS.has(ext)) mod = await importTypeScript(file, arg);
  else if (JS_EXTENSIONS.has(ext)) mod = await importBounded(pathToFileURL(file).href, file, loadTimeoutMs());
  else throw new UsageError(`scenario file '${arg}' must be .ts, .mts, .js or .mjs`);
  const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
  return { scenario: validateScenario(mod.default, arg), ref: file, file: { path: file, sha256 } };
}

/**
 * Import a TypeScript scenario in place: the hooks registered here (ts-hooks.ts)
 * transpile it, and the .ts files it imports, in memory as Node loads them,
 * so nothing is written beside the source (its folder may be read-only) and
 * an interrupted load leaves nothing behind. The module keeps its own URL:
 * its relative and bare imports resolve from its folder; 'smpsim' resolves
 * to this installation.
 */
async function importTypeScript(file: string, shown: string): Promise<Record<string, unknown>> {
  registerTypeScriptHooks();
  return importBounded(pathToFileURL(file).href, shown, loadTimeoutMs());
}

/** Check the shape of a user scenario (zod schema in harness/scenario-schema.ts). */
export function validateScenario(x: unknown, shown: string): Scenario {
  if (x === null || typeof x !== 'object') throw new UsageError(`scenario file '${shown}': its default export must be a scenario object (see defineScenario)`);
  try {
    return parseScenario(x, `file '${shown}'`);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
