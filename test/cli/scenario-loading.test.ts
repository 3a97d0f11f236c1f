import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STACK_LINE, cli, signalsOn } from './helpers.js';

/**
 * Scenario files that never finish importing: each ends with one line on
 * stderr and its exit code, and leaves nothing beside the source (a .ts is
 * compiled in memory; the folder is listed to hold that promise).
 */
const root = mkdtempSync(join(tmpdir(), 'smpsim-load-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A fresh directory holding only `name` with `source`. */
function alone(name: string, source: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(root, 'd-'));
  const file = join(dir, name);
  writeFileSync(file, source);
  return { dir, file };
}

const lastLine = (s: string): string => s.trimEnd().split('\n').at(-1)!;

// Real processes (Node's loader, signals, the process's event loop), side by side: each has its own directory.
describe.concurrent('loading a scenario file', () => {
  it.each(['tla.ts', 'tla.mjs'])('an unsettled top-level await (%s): exit 2, one line, nothing left beside it', async (name) => {
    const { dir, file } = alone(name, 'await new Promise(() => {});\nexport default {};\n');
    const r = await cli(['run', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`smpsim: scenario file '${file}' never finished loading: its top-level await waits for something that can never happen\n`);
    expect(readdirSync(dir)).toEqual([name]);
  });

  it('one that keeps the event loop alive hits the time limit (SMPSIM_LOAD_TIMEOUT): exit 2, one line, nothing left', async () => {
    const { dir, file } = alone('alive.ts', 'setInterval(() => {}, 1000);\nawait new Promise(() => {});\nexport default {};\n');
    const r = await cli(['run', file], { env: { SMPSIM_LOAD_TIMEOUT: '300ms' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`smpsim: scenario file '${file}' did not finish loading within 0.3 s (its top-level code is still waiting; SMPSIM_LOAD_TIMEOUT sets the limit)\n`);
    expect(readdirSync(dir)).toEqual(['alive.ts']);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s while it loads: exit %i with one line, and no compiled file left', async (sig, code) => {
    // The file says when its own top-level code runs; the test signals then.
    const { dir, file } = alone('slow.ts', "process.stderr.write('LOADING\\n');\nsetInterval(() => {}, 1000);\nawait new Promise(() => {});\nexport default {};\n");
    const signals = signalsOn([['LOADING', sig]]);
    const r = await cli(['run', file], { onStderr: signals.onStderr });
    expect(signals.sent()).toBe(1);
    expect(r.code).toBe(code);
    expect(r.stderr).toBe(`LOADING\nsmpsim: interrupted (${sig}) while loading scenario file '${file}'\n`);
    expect(readdirSync(dir)).toEqual(['slow.ts']);
  });

  it('a module that throws while loading: exit 2, one line, no stack trace; a bad SMPSIM_LOAD_TIMEOUT is refused', async () => {
    const { dir, file } = alone('throws.ts', "throw new Error('exploded at load');\n");
    const r = await cli(['run', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`smpsim: cannot load scenario file '${file}': exploded at load\n`);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(readdirSync(dir)).toEqual(['throws.ts']);
    const bad = await cli(['run', file], { env: { SMPSIM_LOAD_TIMEOUT: 'soon' } });
    expect(bad.code).toBe(2);
    expect(lastLine(bad.stderr)).toMatch(/^smpsim: SMPSIM_LOAD_TIMEOUT='soon': duration must be/);
    expect(bad.stderr.split('\n')).toHaveLength(2);
  });
});
