import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { workerEntry } from '../../src/harness/pool.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('the CPU threads\' entry point', () => {
  it('`npm run build` bundles the worker into one file that imports only packages, and the pool starts its threads from it', () => {
    expect(workerEntry(ROOT)).toBe(join(ROOT, 'dist/workers/cpu.bundle.js'));
    const text = readFileSync(join(ROOT, 'dist/workers/cpu.bundle.js'), 'utf8');
    const specifiers = [...text.matchAll(/^import\s.*?from\s+["']([^"']+)["']/gm)].map((m) => m[1]);
    expect(specifiers.length).toBeGreaterThan(0);
    for (const s of specifiers) expect(s, s).not.toMatch(/^\.|^\//);
    // The kernel model and the machine are in it, zod is not (the commands' schemas are built elsewhere).
    expect(text).toMatch(/\bFlushInitiator = class\b/);
    expect(specifiers.some((s) => s.startsWith('zod'))).toBe(false);
  });

  const dir = mkdtempSync(join(tmpdir(), 'smpsim-entry-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const entry = join(dir, 'dist/workers/cpu.js');
  const bundle = join(dir, 'dist/workers/cpu.bundle.js');

  it('is the modules when there is no bundle, or when tsc wrote the entry after the bundle was made (it may be stale)', () => {
    expect(() => workerEntry(dir)).toThrow(`worker entry ${entry} is missing: run 'npm run build' first`);
    mkdirSync(join(dir, 'dist/workers'), { recursive: true });
    writeFileSync(entry, '');
    expect(workerEntry(dir)).toBe(entry);
    writeFileSync(bundle, '');
    utimesSync(entry, 2000, 2000);
    utimesSync(bundle, 1000, 1000);
    expect(workerEntry(dir)).toBe(entry);
    utimesSync(bundle, 3000, 3000);
    expect(workerEntry(dir)).toBe(bundle);
  });
});
