import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The package as a user gets it: `npm pack`, installed from the tarball into
 * a fresh project (its dependencies from the npm cache, else the registry),
 * then a plain `tsc --noEmit` over a scenario importing smpsim, in a project
 * without @types/node, and the installed CLI running that scenario.
 *
 * Slow (a pack and an install): skipped unless SMPSIM_PACK_TEST=1;
 * `npm run test:pack` builds and runs it.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** A scenario the installed CLI runs. */
const SCENARIO = `import { defineScenario, type Workload } from 'smpsim';

const PAGES = 16;
const readers = (cpu: number): Workload => ({ spaces: [0], ranges: [{ start: 0, pages: PAGES }], mix: cpu > 0 ? { load: 2, store: 1 } : { load: 1 } });

export default defineScenario({
  name: 'fresh-project',
  title: 'munmap under readers, from a fresh project',
  description: 'CPU 0 munmaps what CPU 1 reads and writes',
  cpus: 2,
  machine: { frames: 256 },
  setup: [{ op: 'createMm', asid: 0 }, { op: 'switchMm', asid: 0 }, { op: 'mmap', asid: 0, start: 0, pages: PAGES, write: true }],
  script: [{ op: 'waitSteps', steps: 200 }, { op: 'munmap', asid: 0, start: 0, end: PAGES }],
  workload: readers,
  combinations: [{ arch: 'linux-6', hw: 'x86', expect: 'clean' }],
});
`;

/** Every entry point, used the way the README shows: this file only has to type-check (smpsim/testing needs vitest to run). */
const LIBRARY_USE = `import { runScenario } from 'smpsim';
import { raceTests } from 'smpsim/testing';
import { CpuPool } from 'smpsim/internals';
import armDelayedFree from 'smpsim/scenarios/arm-delayed-free';
import myScenario from './my-scenario.js';

export async function library(): Promise<string> {
  const report = await runScenario({ scenario: armDelayedFree, arch: ['arm-2.6.37'], hw: 'armv7-mp', iterations: 1 });
  return report.scenario;
}
export const forVitest = (): void => raceTests(myScenario, { cleanIterations: 10 });
export type Pool = CpuPool;
`;

describe.skipIf(process.env.SMPSIM_PACK_TEST !== '1')('the packed tarball in a fresh project', () => {
  const work = mkdtempSync(join(tmpdir(), 'smpsim-pack-'));
  const project = join(work, 'project');
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  beforeAll(() => {
    // --ignore-scripts: pack the dist/ just built (npm run test:pack builds first) without building again.
    execFileSync(npm, ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, stdio: 'ignore' });
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))!;
    execFileSync('mkdir', [project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'fresh', version: '1.0.0', private: true, type: 'module' }));
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true }, include: ['*.ts'] }),
    );
    execFileSync(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', join(work, tarball)], { cwd: project, stdio: 'ignore' });
  }, 300_000);

  it('has no @types/node to lean on', () => {
    expect(existsSync(join(project, 'node_modules', 'smpsim', 'package.json'))).toBe(true);
    expect(existsSync(join(project, 'node_modules', '@types', 'node'))).toBe(false);
  });

  it('tsc --noEmit accepts a scenario, and code importing smpsim, smpsim/testing, smpsim/internals and a shipped scenario', () => {
    writeFileSync(join(project, 'my-scenario.ts'), SCENARIO);
    writeFileSync(join(project, 'library-use.ts'), LIBRARY_USE);
    const r = spawnSync(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: project, encoding: 'utf8' });
    console.log(`tsc --noEmit in the fresh project: exit ${r.status}${r.stdout ? `\n${r.stdout}` : ''}`);
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  }, 120_000);

  it('and the types do check: a wrong field is an error', () => {
    writeFileSync(join(project, 'wrong.ts'), SCENARIO.replace('cpus: 2,', "cpus: 'two',"));
    const r = spawnSync(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: project, encoding: 'utf8' });
    rmSync(join(project, 'wrong.ts'));
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/^wrong\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/m);
  }, 120_000);

  it('the installed CLI runs the scenario file in place', () => {
    const r = spawnSync(join(project, 'node_modules', '.bin', 'smpsim'), ['run', './my-scenario.ts', '--iterations', '3'], { cwd: project, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^verdict: clean: no violation in 3 iterations \(as expected\)$/m);
    expect(readdirSync(project).sort()).toEqual(['library-use.ts', 'my-scenario.ts', 'node_modules', 'package-lock.json', 'package.json', 'tsconfig.json']);
  }, 120_000);
});
