import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Scenario } from '../harness/scenario.js';
import { findScenario, scenarioNames } from '../../scenarios/index.js';
import { parseScenario } from '../harness/scenario-schema.js';
import { firstLine, importBounded, loadTimeoutMs } from './bounded-import.js';
import { UsageError } from './errors.js';
import { unknownNameMessage } from '../harness/suggest.js';

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx']);
const JS_EXTENSIONS = new Set(['.js', '.mjs', '.cjs']);

/** This package's entry (dist/src/index.js), which a scenario file imports as 'smpsim'. */
function ownEntry(): string {
  return fileURLToPath(new URL('../index.js', import.meta.url));
}

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
 * The first statement of a compiled scenario: it removes its own file. By the
 * time a module's body runs, its source has been read, so the compiled file
 * is gone before any of the user's code runs, and whatever that code does
 * (never settle, loop forever, get killed) leaves nothing beside the source.
 */
const SELF_REMOVING_BANNER = "import { unlinkSync as __smpsimUnlink } from 'node:fs'; try { __smpsimUnlink(new URL(import.meta.url)); } catch {}";

/**
 * Compile a TypeScript scenario with esbuild: its relative imports are
 * bundled, `smpsim` (and `smpsim/...`) resolves to this installation, other packages stay
 * imports resolved from the file's directory. The output is written beside
 * the source (so those imports resolve as they would for the source),
 * imported, and removed.
 */
async function importTypeScript(file: string, shown: string): Promise<Record<string, unknown>> {
  const esbuild = await import('esbuild');
  const entry = ownEntry();
  let code: string;
  try {
    const out = await esbuild.build({
      entryPoints: [file],
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      logLevel: 'silent',
      sourcemap: 'inline',
      banner: { js: SELF_REMOVING_BANNER },
      plugins: [
        {
          name: 'smpsim-self',
          setup(b) {
            // 'smpsim' and its subpaths resolve to this installation (self-reference through
            // package.json "exports" when it has them; the main entry otherwise).
            b.onResolve({ filter: /^smpsim(\/|$)/ }, (args) => {
              try {
                return { path: import.meta.resolve(args.path), external: true };
              } catch {
                return args.path === 'smpsim' ? { path: pathToFileURL(entry).href, external: true } : undefined;
              }
            });
          },
        },
      ],
    });
    code = out.outputFiles[0].text;
  } catch (e) {
    const errors = (e as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors;
    const first = errors?.[0];
    const where = first?.location ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : '';
    throw new UsageError(`cannot compile scenario file '${shown}': ${first ? where + first.text : firstLine(e)}`);
  }
  const tmp = join(dirname(file), `.${basename(file)}.smpsim-${process.pid}-${Date.now()}.mjs`);
  // Removed by its own first statement (SELF_REMOVING_BANNER); until then, by any exit of
  // this process (a third signal's process.exit) and by the finally below.
  const remove = (): void => {
    try {
      unlinkSync(tmp);
    } catch {
      // gone already
    }
  };
  process.once('exit', remove);
  try {
    await writeFile(tmp, code);
  } catch (e) {
    remove();
    process.off('exit', remove);
    throw new UsageError(`cannot write the compiled scenario beside '${shown}': ${firstLine(e)}`);
  }
  try {
    return await importBounded(pathToFileURL(tmp).href, shown, loadTimeoutMs());
  } finally {
    remove();
    process.off('exit', remove);
  }
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
