import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { builtinScenarios } from '../../scenarios/index.js';

const root = (p: string): string => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const doc = readFileSync(root('docs/fidelity.md'), 'utf8');

/** A row id of docs/fidelity.md as scenario files quote it: `path:policy` or `hw:flavour`. */
const ROW_ID = /`((?:munmap|madvise|shift_arg_pages|exit_mmap|gup_fast|mremap|truncate|lazy|khugepaged|hw):[a-z0-9.-]+)`/g;

describe('scenario expectations rest on rows of docs/fidelity.md', () => {
  const sources = new Map(readdirSync(root('scenarios')).filter((f) => f.endsWith('.ts') && f !== 'index.ts').map((f) => [f.replace(/\.ts$/, ''), readFileSync(root(`scenarios/${f}`), 'utf8')]));

  it.each(builtinScenarios().map((s) => [s.name, s] as const))('%s names existing rows for every policy and flavour it expects', (name, scenario) => {
    const source = sources.get(name);
    expect(source, `scenarios/${name}.ts`).toBeDefined();
    expect(scenario.description).toContain('docs/fidelity.md');
    const named = [...source!.matchAll(ROW_ID)].map((m) => m[1]);
    for (const id of named) expect(doc, `row ${id} named in scenarios/${name}.ts`).toContain(`\`${id}\``);
    for (const c of scenario.combinations) {
      expect(named.some((id) => id.endsWith(`:${c.arch}`) && !id.startsWith('hw:')), `a row for ${c.arch}`).toBe(true);
      expect(named, `the section for ${c.hw}`).toContain(`hw:${c.hw}`);
    }
  });
});
