// Shrinking a failing pct schedule (src/harness/shrink.ts) and the story a replay prints (src/harness/story.ts).
import { describe, expect, it } from 'vitest';
import armDelayedFree from '../../scenarios/arm-delayed-free.js';
import { findScenario } from '../../scenarios/index.js';
import { replay } from '../../src/harness/replay.js';
import { type ReplaySpec, encodeReplay, scheduleOf } from '../../src/harness/replay-token.js';
import { iterationSeed } from '../../src/harness/runner.js';
import { shrinkReplay } from '../../src/harness/shrink.js';
import { usePool } from '../helpers.js';

const pool = usePool();
const load = { loadScenario: async (ref: string) => findScenario(ref)! };

/** Iteration `it` of a pct run of the delayed-free bug (seed 1), with PCT's change points drawn for k = 4000. */
const pctIteration = (it: number): ReplaySpec => ({ scenario: 'arm-delayed-free', arch: 'arm-2.6.37', hw: 'arm11mpcore', cpus: 3, iteration: it, seed: iterationSeed(1, it), depth: 3, k: 4000 });

describe('shrinking a failing schedule', () => {
  // Attempts are bounded by count, not time, so both shrinks make exactly the same attempts.
  const bounds = { timeMs: 600_000, maxRuns: 30 };

  it('keeps the violation kind and frame role, never grows a dimension, and shrinks the same failure to the same result', async () => {
    const spec = pctIteration(2);
    expect(scheduleOf(spec).changes).toHaveLength(2);
    const original = await replay(encodeReplay(spec), { ...load, pool: pool() });
    expect(original.violations.length).toBeGreaterThan(0);
    const a = (await shrinkReplay(armDelayedFree, spec, { ...bounds, pool: pool() }))!;
    const b = (await shrinkReplay(armDelayedFree, spec, { ...bounds, pool: pool() }))!;
    expect(a).not.toBeNull();
    expect(a.violation).toMatchObject({ kind: original.violations[0].kind, frameKind: original.violations[0].frameKind });
    expect(a.after.cpus).toBeLessThanOrEqual(a.before.cpus);
    expect(a.after.changes).toBeLessThanOrEqual(a.before.changes);
    expect(a.after.budget).toBeLessThanOrEqual(a.before.budget);
    // Something did shrink: the original schedule's workload budget leaves room above the script's waitSteps.
    expect(a.after.cpus + a.after.changes + a.after.budget).toBeLessThan(a.before.cpus + a.before.changes + a.before.budget);
    expect(encodeReplay(b.spec)).toBe(encodeReplay(a.spec));
  });

  it('gives a token that replays to the same violation, the same way twice, with a short story', async () => {
    const s = (await shrinkReplay(armDelayedFree, pctIteration(2), { ...bounds, pool: pool() }))!;
    const token = encodeReplay(s.spec);
    expect(token).toMatch(/^smp2\./);
    const r1 = await replay(token, { ...load, pool: pool() });
    const r2 = await replay(token, { ...load, pool: pool() });
    expect(r2.hash).toBe(r1.hash);
    const v = r1.violations[0];
    expect(v).toMatchObject({ kind: s.violation.kind, frameKind: s.violation.frameKind, cpu: s.violation.cpu, vpn: s.violation.vpn, frame: s.violation.frame });
    // The story is a few dozen lines, where the full interleaving is hundreds.
    expect(r1.story.length).toBeLessThanOrEqual(40);
    expect(r1.interleaving.length).toBeGreaterThan(4 * r1.story.length);
    // One step counter: the story's last line is the violation at the step the violation reports.
    expect(r1.story.at(-1)).toMatch(new RegExp(`^step +${v.step} +CPU ${v.cpu} .*VIOLATION ${v.kind} at ${v.address}, frame ${v.frame}$`));
    // The victim frame's free is told, as a frame, with the kernel step that handed it over.
    expect(r1.story.some((l) => l.includes(`free frame ${v.frame} (`))).toBe(true);
    expect(r1.story.some((l) => l.includes(`tlb_remove_page frame ${v.frame}`))).toBe(true);
  });

  it('tells the flush a walker violation came after, with the caches it covered', async () => {
    // armv7-mp: the range flush is a leaf invalidate that drops walk-cache entries spanning it; a walk refills one, and the table is freed.
    const spec: ReplaySpec = { ...pctIteration(0), hw: 'armv7-mp', cpus: 4, seed: 3862385333, k: undefined };
    const r = await replay(encodeReplay(spec), { ...load, pool: pool() });
    expect(r.violations[0]).toMatchObject({ kind: 'walker-read-freed-table' });
    expect(r.story).toContainEqual(expect.stringMatching(/flush range \[0x0, 0x30000\) of D-TLB, walk cache \(leaf invalidate; this hardware drops the entries spanning it\)$/));
    expect(r.story).toContainEqual(expect.stringMatching(new RegExp(`kernel: munmap/pte_free_tlb frame ${r.violations[0].frame}$`)));
  });

  it('returns null for a schedule that does not fail', async () => {
    const clean = pctIteration(3);
    expect((await replay(encodeReplay(clean), { ...load, pool: pool() })).violations).toHaveLength(0);
    expect(await shrinkReplay(armDelayedFree, clean, { ...bounds, pool: pool() })).toBeNull();
  });
});
