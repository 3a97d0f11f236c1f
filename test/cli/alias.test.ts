import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeReplay } from '../../src/harness/replay-token.js';
import { inProcessCli } from './helpers.js';

/** The note the CLI prints, once, when it meets the old name. */
const NOTE = /^note: policy 'generic-2\.6\.39' is now called 'generic-2011-series' .*\n$/;

const dir = mkdtempSync(join(tmpdir(), 'smpsim-alias-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/**
 * The CLI in this process, on a warm CPU pool: one command after another, as
 * separate processes would run them; each says its note (once per command).
 */
const cli = inProcessCli();

describe("the old name 'generic-2.6.39'", () => {
  it('--arch: runs as generic-2011-series, with a one-line note on stderr', async () => {
    const r = await cli(['run', 'arm-delayed-free', '--arch', 'generic-2.6.39', '--hw', 'armv7-mp', '--iterations', '2', '--cpus', '2']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(NOTE);
    expect(r.stdout).toContain('combination: generic-2011-series / armv7-mp');
    expect(r.stdout).not.toContain('generic-2.6.39');
  });

  it('in a scenario file: the combination runs (and reports) under the new name', async () => {
    const file = join(dir, 'old-name.mjs');
    writeFileSync(
      file,
      `export default {
  name: 'old-name', title: 'old policy name', description: 'munmap under readers',
  cpus: 2, machine: { frames: 256 },
  setup: [{ op: 'createMm', asid: 0 }, { op: 'switchMm', asid: 0 }, { op: 'mmap', asid: 0, start: 0, pages: 16, write: true }],
  script: [{ op: 'waitSteps', steps: 100 }, { op: 'munmap', asid: 0, start: 0, end: 16 }],
  workload: () => ({ spaces: [0], ranges: [{ start: 0, pages: 16 }], mix: { load: 1, store: 1 } }),
  combinations: [{ arch: 'generic-2.6.39', hw: 'armv7-mp', expect: 'clean' }],
};
`,
    );
    const r = await cli(['run', file, '--iterations', '2', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(NOTE);
    expect(JSON.parse(r.stdout).combinations[0].arch).toBe('generic-2011-series');
  });

  it('in a replay token: replays under the new name', async () => {
    const token = encodeReplay({ scenario: 'arm-delayed-free', arch: 'generic-2.6.39', hw: 'armv7-mp', cpus: 2, iteration: 0, seed: 1, depth: 3 });
    const r = await cli(['replay', token, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(NOTE);
    expect(JSON.parse(r.stdout).spec.arch).toBe('generic-2011-series');
  });
});
