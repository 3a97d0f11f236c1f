import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { policyNames } from '../../src/kernel/index.js';
import { flavourNames } from '../../src/machine/flavours.js';

const root = (p: string): string => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const doc = readFileSync(root('docs/fidelity.md'), 'utf8');

/** The kernel paths docs/fidelity.md has a table for (the syscalls smpsim runs, and gup_fast). */
const PATHS = ['munmap', 'madvise', 'shift_arg_pages', 'exit_mmap', 'gup_fast', 'mremap', 'truncate'];

describe('docs/fidelity.md', () => {
  it.each(policyNames())('has a row for %s on every path', (name) => {
    for (const path of PATHS) expect(doc).toContain(`\`${path}:${name}\``);
  });

  it.each(flavourNames())('has a section for hardware flavour %s', (name) => {
    expect(doc).toContain(`### \`hw:${name}\``);
  });

  it('ships in the package', () => {
    const pkg = JSON.parse(readFileSync(root('package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('docs');
  });
});
