// `smpsim replay`: the story by default, every event with --full, a Perfetto trace with --trace FILE.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeReplay } from '../../src/harness/replay-token.js';
import { cliInProcess, inProcessCli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'smpsim-replay-story-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The calibrating iteration of a pct run of the delayed-free bug on ARMv7 (no change points): a walker reads a freed PTE table.
const TOKEN = encodeReplay({ scenario: 'arm-delayed-free', arch: 'arm-2.6.37', hw: 'armv7-mp', cpus: 2, iteration: 0, seed: 3862385333, depth: 3, schedule: { priorities: [6, 4], changes: [] }, budget: 640 });

/** The CLI in this process (same main(), output and exit code), on a warm CPU pool. */
const cli = inProcessCli();

// A replay is deterministic (one CPU thread steps at a time, in the token's order).
describe('smpsim replay output', () => {
  it('prints the story, ending at the violation with the step the violation block reports', async () => {
    const r = await cli(['replay', TOKEN]);
    expect(r.code).toBe(1);
    const story = r.stdout.split('\n\n').find((b) => b.startsWith('the story of the first violation'))!.split('\n').slice(1);
    expect(story.length).toBeLessThanOrEqual(40);
    const step = /^ {2}when: +iteration 0, step ([\d,]+),/m.exec(r.stdout)![1].replace(/,/g, '');
    expect(story.at(-1)).toMatch(new RegExp(`^ {2}step +${step} +CPU 1 +VIOLATION walker-read-freed-table at 0x[0-9a-f]+, frame (\\d+)$`));
    expect(story.some((l) => /flush range \[0x0, 0x30000\) of D-TLB, walk cache/.test(l))).toBe(true);
  });

  it('--full prints every event up to the violation', async () => {
    const r = await cli(['replay', TOKEN, '--full']);
    const story = await cli(['replay', TOKEN]);
    expect(r.code).toBe(1);
    const block = r.stdout.split('\n\n').find((b) => b.startsWith('every event up to the first violation:'))!.split('\n').slice(1);
    const total = Number(/\((\d+) events in all/.exec(story.stdout)![1]);
    expect(block).toHaveLength(total);
    expect(block.at(-1)).toMatch(/VIOLATION walker-read-freed-table/);
  });

  it('--trace FILE writes a Perfetto trace of the replayed iteration and names it in one line', async () => {
    const file = join(dir, 'replay.json');
    const r = await cli(['replay', TOKEN, '--trace', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`trace written to ${file} (open it in https://ui.perfetto.dev)\n`);
    const trace = JSON.parse(readFileSync(file, 'utf8'));
    expect(trace.traceEvents.some((e: { name?: string; cat?: string }) => e.cat === 'violation' && /walker-read-freed-table/.test(e.name ?? ''))).toBe(true);
  });

  it('--trace into a directory that is not there is refused before anything runs (exit 2, one line)', async () => {
    const file = join(dir, 'missing', 'replay.json');
    const r = await cli(['replay', TOKEN, '--trace', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^smpsim: --trace: /);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(existsSync(file)).toBe(false);
  });

  it.each([['--shrink', 'soon'], ['--token-search', '-1s']])('run %s %s is refused with one line (exit 2)', async (flag, value) => {
    // Stopping once the inputs are checked: a case that got past the checks would exit 0.
    const r = await cliInProcess(['run', 'arm-delayed-free', flag, value]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(flag);
  });
});
