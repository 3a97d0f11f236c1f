import { cpus } from 'node:os';
import { CpuPool } from '../src/harness/pool.js';
import { benchIpi } from './ipi.js';

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
  } finally {
    await pool.close();
  }
  console.log(ok ? '\nall targets met' : '\nsome targets not met');
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(3);
});
