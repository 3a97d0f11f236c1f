import { cpus } from 'node:os';
import { VERSION } from '../version.js';

/**
 * Where a report came from, carried by every JSON report smpsim writes (run,
 * merge and bench): two figures are comparable only if they came from the
 * same tool version, on the same kind of host, and the command line says
 * what was asked. Everything here is read once, when the report is made.
 */
export interface Provenance {
  /** smpsim's version (its package.json). */
  smpsim: string;
  /** process.version, e.g. "v20.20.2". */
  node: string;
  /** Logical host cores (os.cpus().length) and the first core's model string. */
  hostCores: number;
  cpuModel: string;
  platform: string;
  /** When the report was made, ISO 8601 in UTC. */
  date: string;
  /** The command line: argv after the node binary and script ("run arm-delayed-free --json"). */
  argv: string[];
}

export function provenance(argv: readonly string[] = process.argv.slice(2), now: Date = new Date()): Provenance {
  const c = cpus();
  return {
    smpsim: VERSION,
    node: process.version,
    hostCores: c.length,
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    platform: `${process.platform}-${process.arch}`,
    date: now.toISOString(),
    argv: [...argv],
  };
}
