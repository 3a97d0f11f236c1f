// Node module customization hooks (module.register) that let the CLI import a
// user's TypeScript scenario file in place: nothing is written anywhere, so the
// file's folder may be read-only and an interrupted load leaves nothing behind.
//
// These hooks run on Node's hooks thread, not the main thread; they see every
// import of the process, so they act only on what is theirs:
//  - load: a file: URL ending in .ts/.mts/.cts/.tsx is read and transpiled to
//    an ES module by esbuild's `transform` (types stripped, no type check, no
//    bundling). The module keeps its own URL, so its relative and bare imports
//    resolve from the user's folder as they would for a .js file there.
//  - resolve: 'smpsim' and 'smpsim/…' resolve to the installation running the
//    CLI (as a self-reference through its package.json "exports"), so a
//    scenario and the CLI share one copy of smpsim's modules; a relative
//    import from a TypeScript file written the NodeNext way ('./helper.js' for
//    helper.ts) or without an extension finds the .ts file.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export interface HooksData {
  /** A file: URL inside this package, from which 'smpsim' resolves as a self-reference. */
  selfParentURL: string;
}

type ResolveContext = { conditions: string[]; importAttributes?: Record<string, string>; parentURL?: string };
type ResolveResult = { url: string; format?: string | null; shortCircuit?: boolean };
type NextResolve = (specifier: string, context?: ResolveContext) => Promise<ResolveResult>;
type LoadContext = { conditions: string[]; format?: string | null; importAttributes?: Record<string, string> };
type LoadResult = { format: string; source?: string | ArrayBuffer | Uint8Array; shortCircuit?: boolean };
type NextLoad = (url: string, context?: LoadContext) => Promise<LoadResult>;

/** The `code` of the error a load throws when esbuild cannot compile a file; its message is `file:line:column: what`. */
export const COMPILE_ERROR_CODE = 'SMPSIM_TS_COMPILE';

const TS_URL = /\.(ts|mts|cts|tsx)$/;
const SELF = /^smpsim(\/|$)/;

let selfParentURL: string | undefined;

export function initialize(data: HooksData): void {
  selfParentURL = data.selfParentURL;
}

function isTypeScriptFile(url: string | undefined): boolean {
  return url !== undefined && url.startsWith('file:') && TS_URL.test(new URL(url).pathname);
}

/** Other spellings of a relative specifier a TypeScript author means, in the order TypeScript tries them. */
function typeScriptCandidates(specifier: string): string[] {
  const m = /^(.*)\.(js|mjs|cjs|jsx)$/.exec(specifier);
  if (m) {
    const ts = { js: ['.ts', '.tsx'], mjs: ['.mts'], cjs: ['.cts'], jsx: ['.tsx'] }[m[2] as 'js' | 'mjs' | 'cjs' | 'jsx'];
    return ts.map((e) => m[1] + e);
  }
  if (/\.[cm]?tsx?$/.test(specifier)) return [];
  return ['.ts', '.tsx', '.mts', '/index.ts'].map((e) => specifier + e);
}

export async function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve): Promise<ResolveResult> {
  if (SELF.test(specifier) && selfParentURL !== undefined) return nextResolve(specifier, { ...context, parentURL: selfParentURL });
  try {
    return await nextResolve(specifier, context);
  } catch (e) {
    const relative = specifier.startsWith('./') || specifier.startsWith('../');
    if (!relative || !isTypeScriptFile(context.parentURL) || (e as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    for (const candidate of typeScriptCandidates(specifier)) {
      try {
        return await nextResolve(candidate, context);
      } catch {
        // try the next spelling
      }
    }
    throw e;
  }
}

export async function load(url: string, context: LoadContext, nextLoad: NextLoad): Promise<LoadResult> {
  if (!isTypeScriptFile(url)) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const source = await readFile(path, 'utf8');
  const { transform } = await import('esbuild');
  try {
    const out = await transform(source, {
      loader: path.endsWith('.tsx') ? 'tsx' : 'ts',
      format: 'esm',
      target: 'node20',
      platform: 'node',
      sourcefile: path,
      sourcemap: 'inline',
      logLevel: 'silent',
    });
    return { format: 'module', source: out.code, shortCircuit: true };
  } catch (e) {
    // Own enumerable properties (code) survive the trip to the main thread; the loader turns this into one line.
    const first = (e as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors?.[0];
    if (!first) throw e;
    const where = first.location ? `${first.location.file}:${first.location.line}:${first.location.column}: ` : '';
    throw Object.assign(new Error(where + first.text), { code: COMPILE_ERROR_CODE });
  }
}
