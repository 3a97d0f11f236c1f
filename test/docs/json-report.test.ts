import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VIOLATION_KINDS } from '../../src/machine/constants.js';

const doc = readFileSync(new URL('../../docs/json-report.md', import.meta.url), 'utf8');

describe('docs/json-report.md', () => {
  it('lists every violation kind the checker records, with its description, and no other', () => {
    const section = doc.slice(doc.indexOf('### Violation kinds'), doc.indexOf('## MachineTotals'));
    const rows = [...section.matchAll(/^\| `([a-z-]+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual(Object.values(VIOLATION_KINDS).map((k) => [k.name, k.description]));
  });
});
