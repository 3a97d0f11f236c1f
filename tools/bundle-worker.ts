import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * `npm run build`, after tsc: the CPU worker's entry (dist/workers/cpu.js)
 * and every module of this package it imports, bundled into one file,
 * dist/workers/cpu.bundle.js, which the CPU pool starts its threads from
 * (src/harness/pool.ts workerFile). Loading the 70-odd modules one by one
 * took each new thread 46-51 ms on the 2-core host, the bundle 15 ms; every
 * CLI run starts 2 to 10 threads. Packages (piscina, comlink) stay imports.
 * Nothing in the worker's modules depends on its own file's location
 * (import.meta, require), so one file changes nothing else.
 */
const dist = fileURLToPath(new URL('../workers/', import.meta.url));

await build({
  entryPoints: [`${dist}cpu.js`],
  outfile: `${dist}cpu.bundle.js`,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
