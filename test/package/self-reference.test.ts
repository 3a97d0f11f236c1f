import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as bySelfName from 'smpsim';
import armDelayedFree from '../../scenarios/arm-delayed-free.js';
import * as bySource from '../../src/index.js';

/**
 * The shipped scenarios import smpsim by its package name, as a user's copy
 * of one must: Node resolves that through package.json "exports" to dist/
 * (a package may import itself), TypeScript to the sources, vitest by the
 * aliases in vitest.config.ts.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const scenarioFiles = readdirSync(`${ROOT}scenarios`).filter((f) => f.endsWith('.ts'));

describe('shipped scenarios import smpsim by name', () => {
  it.each(scenarioFiles)('scenarios/%s imports nothing from ../src', (f) => {
    const imports = [...readFileSync(`${ROOT}scenarios/${f}`, 'utf8').matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
    expect(imports.length).toBeGreaterThan(0);
    for (const spec of imports) expect(spec).toMatch(/^(smpsim(\/[a-z]+)?|\.\/[a-z-]+\.js)$/);
  });

  it("under vitest 'smpsim' is the sources the tests use, one copy", () => {
    expect(bySelfName.defineScenario).toBe(bySource.defineScenario);
    expect(bySelfName.findScenario('arm-delayed-free')).toBe(armDelayedFree);
  });

  // Each scenario imports 'smpsim', whose entry re-exports the registry that imports every scenario:
  // a cycle, which must work whichever module a program imports first.
  const scenarios = scenarioFiles.filter((f) => /^export default /m.test(readFileSync(`${ROOT}scenarios/${f}`, 'utf8')));
  it('every shipped scenario is tried', () => expect(scenarios).toHaveLength(bySource.builtinScenarios().length));
  // One Node process each, side by side (they only import): concurrent tests.
  it.concurrent.each(scenarios)('under Node, smpsim/scenarios/%s works as the first import', async (f) => {
    const name = f.replace(/\.ts$/, '');
    const code = `const m = await import('smpsim/scenarios/${name}'); const s = await import('smpsim'); process.stdout.write(JSON.stringify([m.default.name, s.findScenario(m.default.name) === m.default]));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
    expect(JSON.parse(stdout)).toEqual([name, true]);
  });
});
