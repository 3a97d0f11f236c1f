import { describe, expect, it } from 'vitest';
import type { ScriptCommand } from '../../src/harness/thread/script.js';
import { LOCK_STRESS, type LockStressArgs, type LockStressResult } from '../../src/harness/thread/selfcheck-roles.js';
import type { CpuTaskResult } from '../../src/harness/thread/worker-host.js';
import { pctSchedule } from '../../src/harness/pct.js';
import { Gate } from '../../src/machine/gate.js';
import { A, C, H } from '../../src/machine/layout.js';
import { mmapLockWord, ptlWord } from '../../src/machine/locks.js';
import { Machine } from '../../src/machine/index.js';
import { mapRange, usePool } from '../helpers.js';

const pool = usePool();

function script(commands: ScriptCommand[]) {
  return { role: 'script', args: commands };
}

/** A 4-CPU machine with mm 0 and one mapped page: its PTE table frame is the PTL under test. */
function machine(): { m: Machine; table: number } {
  const m = Machine.create({ cpus: 4, frames: 128 });
  m.pt.createSpace(0);
  mapRange(m, 0, 0, 1);
  return { m, table: m.pt.ensurePteTable(0, 0) };
}

/**
 * Go on until the CPUs have contended this much (acquisitions that waited;
 * with no lock, breaches), or maxRounds: on 2 shared host cores 4 threads may
 * overlap little in a short run. Exclusive sections also linger (up to
 * awaitWaiter boundaries) until another CPU waits for the lock, so CPUs that
 * do run together contend. How much they overlap is the host's business: the
 * tests require some contention, not this much.
 */
const CONTENDED = { minContention: 1000, maxRounds: 100_000, awaitWaiter: 200 };

const scratch = (m: Machine, k: number): number => Atomics.load(m.i32, H.SCRATCH + k);

interface Outcome {
  results: LockStressResult[];
  /** Acquisitions that had to wait (C.WAIT_SERIAL, all CPUs): how contended the lock was. */
  waits: number;
  counter: number;
  breaches: number;
  writes: number;
}

async function stress(m: Machine, args: LockStressArgs, opts: { pct?: { seed: number; k: number } } = {}): Promise<Outcome> {
  // A fresh machine state (the scratch words cleared), with the same mm and PTE table as machine() made.
  m.reset();
  m.pt.createSpace(0);
  mapRange(m, 0, 0, 1);
  if (args.frame !== undefined) expect(m.pt.ensurePteTable(0, 0)).toBe(args.frame);
  if (opts.pct) {
    const s = pctSchedule(opts.pct.seed, 4, 3, opts.pct.k);
    Gate.arm(m.i32, m.layout, s.priorities, s.changes);
  }
  const res: CpuTaskResult[] = await pool().run([0, 1, 2, 3].map(() => ({ role: 'lockStress', args, barrier: 4 })));
  const results = res.map((r) => r.result as LockStressResult);
  const waits = [0, 1, 2, 3].reduce((s, c) => s + Atomics.load(m.i32, m.layout.cpu(c, C.WAIT_SERIAL)), 0);
  return { results, waits, counter: scratch(m, LOCK_STRESS.COUNTER), breaches: scratch(m, LOCK_STRESS.BREACHES), writes: results.reduce((s, r) => s + r.writes, 0) };
}

function expectSound(o: Outcome, lockAt: number, m: Machine): void {
  expect(o.results.map((r) => r.firstBreach).filter(Boolean)).toEqual([]);
  expect(o.breaches).toBe(0);
  // No lost update: every exclusive section's increment is there.
  expect(o.counter).toBe(o.writes);
  // Every lock released, nobody left waiting.
  expect(Atomics.load(m.i32, lockAt)).toBe(0);
  for (let c = 0; c < 4; c++) expect(Atomics.load(m.i32, m.layout.cpu(c, C.WAIT_FOR))).toBe(0);
}

describe('mmap_lock (rw) under 4 contending CPUs', () => {
  it('write sections exclude everyone, read sections exclude writers, downgraded writers exclude writers: no lost update, no breach', async () => {
    const { m } = machine();
    await pool().bind(m);
    const rounds = 4000;
    const o = await stress(m, { lock: 'mmap', asid: 0, rounds, ...CONTENDED, seed: 7, hold: 8, writeShare: 0.5, downgradeShare: 0.3 });
    expectSound(o, mmapLockWord(m.layout, 0), m);
    const at = mmapLockWord(m.layout, 0);
    expect(Atomics.load(m.i32, at + (A.MMAP_READERS - A.MMAP_LOCK))).toBe(0);
    expect(Atomics.load(m.i32, at + (A.MMAP_WRITER - A.MMAP_LOCK))).toBe(0);
    // Every round ran, and each kind of section happened.
    expect(o.waits).toBeGreaterThan(0);
    for (const r of o.results) {
      expect(r.writes + r.reads).toBeGreaterThanOrEqual(rounds);
      expect(r.writes).toBeGreaterThan(0);
      expect(r.reads).toBeGreaterThan(0);
      expect(r.downgrades).toBeGreaterThan(0);
    }
  });

  it('without a lock the same sections lose updates and breach (the checks can fail)', async () => {
    const { m } = machine();
    await pool().bind(m);
    const o = await stress(m, { lock: 'none', rounds: 2000, ...CONTENDED, seed: 7, hold: 8, writeShare: 1 });
    // Sections overlapped (a preempted section's stale store usually loses
    // the others' increments too, but not in every run).
    expect(o.breaches).toBeGreaterThan(0);
    expect(o.counter).toBeLessThanOrEqual(o.writes);
  });

  it('holds under the PCT scheduler too (a few schedules, mmap_lock and a PTL)', async () => {
    const { m, table } = machine();
    await pool().bind(m);
    for (const seed of [1, 2, 3, 4]) {
      const o = await stress(m, { lock: 'mmap', asid: 0, rounds: 150, seed, hold: 3 }, { pct: { seed, k: 2000 } });
      expectSound(o, mmapLockWord(m.layout, 0), m);
      const p = await stress(m, { lock: 'ptl', frame: table, rounds: 150, seed, hold: 3 }, { pct: { seed, k: 2000 } });
      expectSound(p, ptlWord(m.layout, table), m);
      expect(p.writes).toBe(4 * 150);
    }
  });
});

describe('spinlocks under 4 contending CPUs', () => {
  it('a PTE table PTL: no lost update, no breach', async () => {
    const { m, table } = machine();
    await pool().bind(m);
    const o = await stress(m, { lock: 'ptl', frame: table, rounds: 4000, ...CONTENDED, seed: 3, hold: 8 });
    expectSound(o, ptlWord(m.layout, table), m);
    expect(o.waits).toBeGreaterThan(0);
    for (const r of o.results) expect(r.writes).toBeGreaterThanOrEqual(4000);
  });

  it("the mm's page_table_lock: no lost update, no breach", async () => {
    const { m } = machine();
    await pool().bind(m);
    const o = await stress(m, { lock: 'page_table_lock', asid: 0, rounds: 2000, ...CONTENDED, seed: 4, hold: 8 });
    expectSound(o, m.layout.space(0, A.PT_LOCK), m);
    expect(o.waits).toBeGreaterThan(0);
  });
});

describe('downgrade_write', () => {
  it('lets a reader in at once, but a writer only after the downgraded holder (and the reader) unlock', async () => {
    const { m } = machine();
    await pool().bind(m);
    // Flags: 0 CPU 0 downgraded; 1 CPU 1 reads; 2 CPU 0 unlocks now; 3 CPU 1 unlocks now; 4 CPU 2 has the write lock.
    const mm = { lock: 'mmap' as const, asid: 0 };
    const [holder, reader, writer] = await pool().run([
      script([
        { op: 'lock', ...mm, mode: 'write' },
        { op: 'downgrade', asid: 0 },
        { op: 'setFlag', flag: 0, value: 1 },
        // A reader gets in while this CPU still holds the (downgraded) lock...
        { op: 'waitFlag', flag: 1, value: 1 },
        // ...a writer does not: it is seen waiting, and stays out for a while.
        { op: 'waitLockWaiter', ...mm, cpu: 2, orFlag: 4, orValue: 1 },
        { op: 'spin', steps: 20_000 },
        { op: 'readFlag', flag: 4 },
        { op: 'setFlag', flag: 2, value: 1 },
        { op: 'unlock', ...mm, mode: 'read' },
      ]),
      script([
        { op: 'waitFlag', flag: 0, value: 1 },
        { op: 'lock', ...mm, mode: 'read' },
        { op: 'setFlag', flag: 1, value: 1 },
        { op: 'waitFlag', flag: 2, value: 1 },
        { op: 'readFlag', flag: 4 },
        { op: 'setFlag', flag: 3, value: 1 },
        { op: 'unlock', ...mm, mode: 'read' },
      ]),
      script([
        { op: 'waitFlag', flag: 1, value: 1 },
        { op: 'lock', ...mm, mode: 'write' },
        { op: 'readFlag', flag: 2 },
        { op: 'readFlag', flag: 3 },
        { op: 'setFlag', flag: 4, value: 1 },
        { op: 'unlock', ...mm, mode: 'write' },
      ]),
      script([]),
    ]);
    const h = holder.result as (number | null)[];
    expect(h[4]).toBe(1); // CPU 2 was seen waiting for the lock
    expect(h[6]).toBe(0); // and had not got it 20 000 steps later
    expect((reader.result as (number | null)[])[4]).toBe(0);
    // When the writer got in, both readers had already let go.
    expect((writer.result as (number | null)[]).slice(2, 4)).toEqual([1, 1]);
    expect(Atomics.load(m.i32, mmapLockWord(m.layout, 0))).toBe(0);
  });
});

describe('deadlock detection', () => {
  for (const [held, wanted] of [
    ['write', 'write'],
    ['write', 'read'],
    ['read', 'write'],
  ] as const) {
    it(`a cycle mmap_lock (${held}) → PTL → mmap_lock (${wanted}) fails the run naming both CPUs and both locks`, async () => {
      const { m, table } = machine();
      await pool().bind(m);
      const mm = { lock: 'mmap' as const, asid: 0 };
      const ptl = { lock: 'ptl' as const, frame: table };
      const run = pool().run([
        script([
          { op: 'lock', ...mm, mode: held },
          { op: 'setFlag', flag: 0, value: 1 },
          { op: 'waitFlag', flag: 1, value: 1 },
          { op: 'lock', ...ptl, mode: 'spin' },
        ]),
        script([
          { op: 'lock', ...ptl, mode: 'spin' },
          { op: 'setFlag', flag: 1, value: 1 },
          { op: 'waitFlag', flag: 0, value: 1 },
          { op: 'lock', ...mm, mode: wanted },
        ]),
        script([]),
        script([]),
      ]);
      const err: Error = await run.then(
        () => {
          throw new Error('the run ended without an error');
        },
        (e: Error) => e,
      );
      expect(err.name).toBe('DeadlockError');
      expect(err.message).toMatch(/^deadlock: /);
      for (const s of ['CPU 0', 'CPU 1', 'mmap_lock of mm 0', `PTL of PTE table frame ${table}`]) expect(err.message).toContain(s);
      // Each CPU waits for what the other holds, as the message says.
      expect(err.message).toMatch(new RegExp(`CPU 0 waits for PTL of PTE table frame ${table} \\(held by CPU 1\\)`));
      expect(err.message).toMatch(new RegExp(`CPU 1 waits for mmap_lock of mm 0 \\(held for ${held} by CPU 0\\)`));
    });
  }
});
