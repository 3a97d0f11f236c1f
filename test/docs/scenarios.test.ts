import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KERNEL_COMMANDS } from '../../src/kernel/commands/index.js';
import { KERNEL_POINTS, SYSCALL_NAMES } from '../../src/kernel/index.js';

const root = (p: string): string => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const doc = readFileSync(root('docs/scenarios.md'), 'utf8');

/** The text of section `heading` (a line starting with #), up to the next heading of any level. */
function section(heading: string): string {
  const start = doc.indexOf(`${heading}\n`);
  expect(start, heading).toBeGreaterThanOrEqual(0);
  const rest = doc.slice(start + heading.length + 1);
  const next = rest.search(/^#{1,6} /m);
  return next < 0 ? rest : rest.slice(0, next);
}

/** The first cells of a section's table rows, `code` ticks removed. */
function firstCells(text: string): string[] {
  return [...text.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
}

describe('docs/scenarios.md', () => {
  it('lists exactly the kernel points of KERNEL_POINTS, in order, each with its line', () => {
    const rows = [...section('## Kernel points').matchAll(/^\| `([a-z_]+)` \| (.+?) \| (.+) \|$/gm)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual(KERNEL_POINTS.map((p) => [p.name, p.where]));
  });

  it('lists every kernel command, and every system-call name a point may carry', () => {
    expect(firstCells(section('## Kernel commands')).filter((c) => c !== 'op').sort()).toEqual(KERNEL_COMMANDS.map((d) => d.op).sort());
    const points = section('## Kernel points');
    for (const name of SYSCALL_NAMES.slice(1)) expect(points).toContain(`\`${name}\``);
  });

  it('documents every harness command', () => {
    for (const op of ['waitSteps', 'spin', 'waitPoint', 'holdPoint']) expect(doc).toContain(`\n### \`{ op: '${op}'`);
  });

  it('shows parallel-madv-dontneed exactly as the scenario file has it', () => {
    const source = readFileSync(root('scenarios/parallel-madv-dontneed.ts'), 'utf8');
    const example = section('## A scenario with two kernel CPUs: `parallel-madv-dontneed`');
    const block = /```ts\n([\s\S]*?)```/.exec(example)?.[1];
    expect(block).toBeDefined();
    expect(block!.length).toBeGreaterThan(1000);
    expect(source).toContain(block!);
  });

  it('links to sections that exist', () => {
    expect(readFileSync(root('docs/architecture.md'), 'utf8')).toContain("\n## The shared mm and the kernel's locks\n");
    expect(readFileSync(root('docs/fidelity.md'), 'utf8')).toContain('\n### Locking and concurrent calls\n');
  });

  it('is where the README sends a reader for the scenario format', () => {
    expect(readFileSync(root('README.md'), 'utf8')).toContain('(docs/scenarios.md)');
  });
});
