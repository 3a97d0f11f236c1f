import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../scenarios/index.js';
import { runSoak } from '../../src/harness/soak.js';
import { usePool } from '../helpers.js';

const pool = usePool();

describe('soak (short version of `npm run soak`)', () => {
  it('every clean combination of every scenario stays clean with 4 CPUs, and every caught one is caught, in one run', async () => {
    const lines: string[] = [];
    const r = await runSoak({ scenarios: SCENARIOS, iterations: 600, cpus: 4, pool: pool(), onLine: (l) => lines.push(l), catchWithin: 200, sweepIterations: 0 });
    const declared = SCENARIOS.flatMap((s) => s.combinations);
    expect(r.rows).toHaveLength(declared.length);
    for (const row of r.rows) {
      if (row.expected === 'clean') expect(row, lines.join('\n')).toMatchObject({ violations: 0, ok: true });
      else expect(row.caughtAt, `${row.scenario} ${row.combination} not caught`).not.toBeNull();
    }
    expect(r.cleanIterations).toBe(600);
    expect(r.ok).toBe(true);
  }, 600_000);
});
