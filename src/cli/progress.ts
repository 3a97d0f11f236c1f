import cliProgress from 'cli-progress';
import type { RunOptions } from '../harness/runner.js';

type ProgressEvent = Parameters<NonNullable<RunOptions['onProgress']>>[0];

/** Live progress of a run on stderr, or nothing when stderr is not a terminal. */
export interface Progress {
  onProgress?: RunOptions['onProgress'];
  stop(): void;
}

export function createProgress(opts: { durationMs?: number; enabled?: boolean }): Progress {
  const enabled = opts.enabled ?? Boolean(process.stderr.isTTY);
  if (!enabled) return { stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: '{combo} {label} [{bar}] {progress} | {violations} violations | {rate} it/s',
      hideCursor: true,
      clearOnComplete: true,
      barsize: 24,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  let current = -1;
  let t0 = 0;
  let started = false;
  const onProgress = (p: ProgressEvent): void => {
    const now = performance.now();
    // By iterations when the run has a count, else by elapsed time (--duration).
    const byTime = !Number.isFinite(p.iterations) && opts.durationMs !== undefined;
    if (p.combination !== current) {
      current = p.combination;
      t0 = now - 1e-3;
      const total = byTime ? Math.ceil(opts.durationMs! / 1000) : p.iterations;
      const payload = { combo: `[${p.combination + 1}/${p.combinations}]`, label: p.label, violations: 0, rate: '0', progress: '' };
      if (started) bar.setTotal(total);
      if (!started) bar.start(total, 0, payload);
      else bar.update(0, payload);
      started = true;
    }
    const elapsed = (now - t0) / 1000;
    const value = byTime ? Math.min(Math.floor(elapsed), Math.ceil(opts.durationMs! / 1000)) : p.iteration;
    const progress = byTime ? `${p.iteration} it, ${Math.floor(elapsed)}/${Math.ceil(opts.durationMs! / 1000)} s` : `${p.iteration}/${p.iterations} it`;
    bar.update(value, { violations: p.violations, rate: (p.iteration / elapsed).toFixed(0), progress });
  };
  return {
    onProgress,
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
