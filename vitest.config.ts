import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import PlainSummary from './test/plain-summary.js';

/**
 * 'smpsim' and its subpaths, as the shipped scenarios import them, resolved to
 * this repository's sources: package.json "exports" maps each to dist/, which
 * Node uses (a package may import itself by name); under vitest the tests and
 * the scenarios must share one copy of the TypeScript sources instead.
 * Derived from "exports", so a new subpath needs no change here.
 */
function selfAliases(): { find: RegExp; replacement: string }[] {
  const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { name: string; exports: Record<string, string | { import: string }> };
  const root = fileURLToPath(new URL('./', import.meta.url));
  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return Object.entries(pkg.exports).flatMap(([key, target]) => {
    const js = typeof target === 'string' ? target : target.import;
    if (!js.endsWith('.js')) return [];
    const source = js.replace(/^\.\/dist\//, root).replace(/\.js$/, '.ts');
    const name = pkg.name + key.slice(1);
    if (!key.includes('*')) return [{ find: new RegExp(`^${escape(name)}$`), replacement: source }];
    const [before, after] = name.split('*');
    return [{ find: new RegExp(`^${escape(before)}(.+)${escape(after)}$`), replacement: source.replace('*', '$1') }];
  });
}

export default defineConfig({
  resolve: { alias: selfAliases() },
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', new PlainSummary()],
    // Two test files at a time, whatever the host: most of a file's time is
    // CPU threads handing work to each other and waiting (IPIs, PCT steps,
    // spawned CLIs starting), so a second file fills the gaps. Measured on a
    // 2-core host: the whole suite in 77 s instead of 122 s, with the same
    // results; the timing-sensitive files (machine/, the signal tests) passed
    // every time side by side. No finding depends on it: a clean policy stays
    // clean and a caught one is caught however the host schedules the threads
    // (the host-core gate is a scheduler, not a different machine).
    // `npx vitest run --no-file-parallelism` runs the files one at a time.
    fileParallelism: true,
    maxWorkers: 2,
    // Each worker runs its files in turn and keeps the modules it imported: a
    // file pays for importing the sources once, not once per file (about half
    // a second each). Safe because no test mocks a module or leaves global
    // state behind. The files of a worker also share one warm CPU pool
    // (test/helpers.ts usePool), closed after its last file.
    isolate: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
