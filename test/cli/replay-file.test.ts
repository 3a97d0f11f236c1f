// A token for a scenario file names it relative to the working directory with a hash of its bytes:
// it replays from there, and a moved, missing or edited file is refused with one line (exit 2).
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeReplay } from '../../src/harness/replay-token.js';
import { STACK_LINE, cli } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'smpsim-replay-file-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The delayed-free race in a user's file: CPU 0 munmaps what CPU 1 reads and writes. */
const SOURCE = `export default {
  name: 'my-munmap',
  title: 'munmap under a reader (test)',
  description: 'CPU 0 munmaps what CPU 1 reads and writes',
  cpus: 2,
  machine: { frames: 128 },
  setup: [{ op: 'createMm', asid: 0 }, { op: 'switchMm', asid: 0 }, { op: 'mmap', asid: 0, start: 0, pages: 8, write: true }],
  script: [{ op: 'waitSteps', steps: 100 }, { op: 'munmap', asid: 0, start: 0, end: 8 }],
  workload: () => ({ spaces: [0], ranges: [{ start: 0, pages: 8 }], mix: { load: 2, store: 1 } }),
  combinations: [{ arch: 'arm-2.6.37', hw: 'arm11mpcore', expect: 'caught' }],
};
`;

describe('replay tokens for scenario files', () => {
  const project = join(root, 'project');
  mkdirSync(join(project, 'scenarios'), { recursive: true });
  const file = join(project, 'scenarios', 'mine.mjs');
  writeFileSync(file, SOURCE);
  let token = '';

  it('name the file relative to the working directory, with a sha256 prefix, and replay from there', async () => {
    // Real processes, in the project's directory (what the token's path is relative to). The PCT
    // scheduler catches it at this seed's iteration 1; the run's own token is enough here (no shrinking).
    const r = await cli(['run', 'scenarios/mine.mjs', '--mode', 'pct', '--cpus', '3', '--iterations', '2', '--shrink', 'off'], { cwd: project });
    // Caught, as the file expects: exit 0.
    expect(r.code).toBe(0);
    token = /^replay: smpsim replay (smp2\.\S+)$/m.exec(r.stdout)![1];
    const spec = decodeReplay(token);
    expect(spec.scenario).toBe('./scenarios/mine.mjs');
    expect(spec.scenarioSha256).toMatch(/^[0-9a-f]{16}$/);
    const again = await cli(['replay', token], { cwd: project });
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('verdict: caught: the replay reproduces the violation');
  });

  it('refuse a replay from elsewhere, where the file is not, with one line', async () => {
    expect(token).not.toBe('');
    const r = await cli(['replay', token], { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`smpsim: the scenario file './scenarios/mine.mjs' this token names is not in ${root} (a token names its file relative to the directory the run was made in: replay from there)\n`);
    expect(r.stdout).toBe('');
  });

  it('refuse an edited file with one line naming both hashes, running nothing of it', async () => {
    expect(token).not.toBe('');
    // The edit would leave a mark if the file ran: it must not.
    const mark = join(project, 'ran');
    appendFileSync(file, `\nimport { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(mark)}, 'x');\n`);
    const r = await cli(['replay', token], { cwd: project });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^smpsim: the scenario file '\.\/scenarios\/mine\.mjs' changed since the token was made \(sha256 [0-9a-f]{16} then, [0-9a-f]{16} now\): the token would replay something else; run the scenario again for a new token\n$/);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(existsSync(mark)).toBe(false);
    expect(readFileSync(file, 'utf8')).toContain(SOURCE);
  });
});
