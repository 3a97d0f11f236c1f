import * as nodeModule from 'node:module';
import { UsageError } from './errors.js';

let registered = false;

/**
 * Install the TypeScript hooks (ts-hooks.ts) for the rest of this process,
 * once. They must be in place before the first import of a .ts file: Node
 * asks the hooks only about modules it has not loaded yet.
 */
export function registerTypeScriptHooks(): void {
  if (registered) return;
  // module.register came in Node 20.6; engines in package.json asks for it, but an older Node may still run us.
  const register = (nodeModule as { register?: typeof nodeModule.register }).register;
  if (typeof register !== 'function') throw new UsageError(`loading a TypeScript scenario file needs Node 20.6 or later (this is ${process.version}); compile it to .mjs or upgrade Node`);
  register(new URL('./ts-hooks.js', import.meta.url), {
    // 'smpsim' in a scenario resolves as a self-reference from this package's own entry.
    data: { selfParentURL: new URL('../index.js', import.meta.url).href },
  });
  registered = true;
}
