import { cpus } from 'node:os';
import { formatNs } from '../src/harness/bench/output.js';
import { benchPolicies } from '../src/harness/bench/policies.js';
import { benchShootdown } from '../src/harness/bench/shootdown.js';
import { CpuPool } from '../src/harness/pool.js';
import { findScenario } from '../scenarios/index.js';
import { benchIpi } from './ipi.js';
import { SHOOTDOWN_4, benchOversubscription } from './oversubscription.js';
import { benchPool } from './pool.js';

/** `npm run bench`: every benchmark, each against a baseline measured in the same run. */
async function main(): Promise<void> {
  const pool = new CpuPool();
  let ok = true;
  try {
    console.log(`smpsim benchmarks (host: ${cpus().length} cores, Node ${process.version})`);
    console.log('\n== bench/ipi ==');
    const ipi = await benchIpi(pool, 20_000, 10);
    for (const l of ipi.lines) console.log(l);
    ok &&= ipi.ok;

    console.log('\n== bench/pool: warm worker pool against fresh threads ==');
    const bp = await benchPool(pool, 500, 8);
    for (const l of bp.lines) console.log(l);
    ok &&= bp.ok;

    // Short versions of `smpsim bench shootdown | policies` (bench/ipi above is `smpsim bench ipi` itself).
    const hi = ipi.ipi;
    console.log('\n== smpsim bench shootdown (short: 1, 2, 4 CPUs) ==');
    // 1 and 2 CPUs briefly; 4 CPUs as bench/oversubscription measures it, which reports this point too (one figure).
    const sd = await benchShootdown(pool, { cpus: [1, 2], samples: 300, ops: 60, budgetMs: 300, minSamples: 5, minOps: 4 });
    sd.points.push(...(await benchShootdown(pool, SHOOTDOWN_4)).points);
    for (const p of sd.points) {
      const ratio = p.latency.p50Ns / hi.raw.p50Ns;
      console.log(
        `${String(p.cpus).padStart(2)} CPUs ${p.flavour.padEnd(9)} shootdown p50 ${formatNs(p.latency.p50Ns).padStart(9)} (${ratio.toFixed(1)}x raw ping-pong p50), p99 ${formatNs(p.latency.p99Ns).padStart(9)}; ` +
          `munmap+touch ${p.munmapOpsPerSecond.toFixed(0)}/s${p.oversubscribed ? ` (past ${sd.hostCores} host cores: threads share cores)` : ''}`,
      );
    }

    console.log('\n== bench/oversubscription: the host-core gate against the host scheduler alone ==');
    const ov = await benchOversubscription(pool, { iterations: 300, rounds: 3, catchIterations: 30, shootdown4: sd.points.filter((p) => p.cpus === 4) });
    for (const l of ov.lines) console.log(l);
    ok &&= ov.ok;

    console.log('\n== smpsim bench policies itlb-exec-policy (short) ==');
    const s = findScenario('itlb-exec-policy');
    if (!s) throw new Error('scenario itlb-exec-policy is not registered');
    const pol = await benchPolicies(pool, { scenario: s, iterations: 5 });
    const base = pol.rows[0];
    for (const r of pol.rows) {
      console.log(
        `${r.policy.padEnd(30)} ${r.flushes.total.toFixed(1)} flushes, ${r.dropped.total.toFixed(1)} dropped, ${r.refillsAfterDrop.toFixed(1)} refills; ` +
          `modelled ${Math.round(r.modelledCycles)} cycles (ratio ${(r.modelledCycles / base.modelledCycles).toFixed(2)} to ${base.policy}), host ${r.hostMsPerOp.toFixed(3)} ms/op (ratio ${(r.hostMsPerOp / base.hostMsPerOp).toFixed(2)})`,
      );
    }
    console.log(pol.answer);
  } finally {
    await pool.close();
  }
  console.log(ok ? '\nall targets met' : '\nsome targets not met');
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(3);
});
