import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliResult, MAIN, STACK_LINE } from './helpers.js';

/**
 * A TypeScript scenario is loaded where it is, compiled in memory by the
 * CLI's module hooks: its folder may be read-only, its relative imports of
 * other .ts files (written './helper.js', as NodeNext wants) and of 'smpsim'
 * resolve, and nothing is ever written beside it.
 *
 * Root ignores permission bits, so when the tests run as root the CLI runs
 * as `nobody` (uid 65534): the folder is then read-only for it in fact.
 */
const asRoot = process.getuid?.() === 0;
const root = mkdtempSync(join(tmpdir(), 'smpsim-inplace-'));
chmodSync(root, 0o755);
afterAll(() => {
  chmodSync(join(root, 'ro'), 0o755);
  rmSync(root, { recursive: true, force: true });
});

const HELPER = `import type { Workload } from 'smpsim';
export const PAGES: number = 16;
export function readers(cpu: number): Workload {
  return { spaces: [0], ranges: [{ start: 0, pages: PAGES }], mix: cpu > 0 ? { load: 2, store: 1 } : { load: 1 } };
}
`;

const SCENARIO = `import { defineScenario } from 'smpsim';
import { PAGES, readers } from './helper.js';
export default defineScenario({
  name: 'in-place',
  title: 'munmap under readers, from a read-only folder',
  description: 'CPU 0 munmaps what CPU 1 reads and writes',
  cpus: 2,
  machine: { frames: 256 },
  setup: [{ op: 'createMm', asid: 0 }, { op: 'switchMm', asid: 0 }, { op: 'mmap', asid: 0, start: 0, pages: PAGES, write: true }],
  script: [{ op: 'waitSteps', steps: 200 }, { op: 'munmap', asid: 0, start: 0, end: PAGES }],
  workload: readers,
  combinations: [{ arch: 'linux-6', hw: 'x86', expect: 'clean' }],
});
`;

const dir = join(root, 'ro');
mkdirSync(dir);
writeFileSync(join(dir, 'helper.ts'), HELPER);
writeFileSync(join(dir, 'scenario.ts'), SCENARIO);
writeFileSync(join(dir, 'broken-helper.ts'), "import { x } from './bad.js';\nexport default x;\n");
writeFileSync(join(dir, 'bad.ts'), 'export const x = ;\n');
for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o444);
chmodSync(dir, 0o555);
const before = readdirSync(dir).sort();

/** The CLI run in the read-only folder, as `nobody` when the test runs as root. */
function cliInPlace(args: string[]): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SMPSIM_DEBUG: '' },
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

describe('a TypeScript scenario in a read-only folder', () => {
  it('the folder really is read-only for the CLI', async () => {
    const r = await new Promise<number | null>((res) => {
      const c = spawn(process.execPath, ['-e', "require('node:fs').writeFileSync('probe', '')"], { cwd: dir, stdio: 'ignore', ...(asRoot ? { uid: 65534, gid: 65534 } : {}) });
      c.on('close', res);
    });
    expect(r).not.toBe(0);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it("runs, importing './helper.js' (a .ts beside it) and 'smpsim', and writes nothing", async () => {
    const r = await cliInPlace(['run', './scenario.ts', '--iterations', '3']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('in-place');
    expect(r.stdout).toMatch(/^verdict: clean: no violation in 3 iterations \(as expected\)$/m);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('a syntax error in an imported .ts is one line naming that file and line (exit 2)', async () => {
    const r = await cliInPlace(['run', './broken-helper.ts']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^smpsim: cannot compile scenario file '\.\/broken-helper\.ts': .*bad\.ts:1:\d+: .+\n$/);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(readdirSync(dir).sort()).toEqual(before);
  });
});
