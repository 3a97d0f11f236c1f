import { createRequire } from 'node:module';
import type CliProgress from 'cli-progress';
import type { RunOptions } from '../harness/runner.js';
import { stderrIsTerminal } from './io.js';

type ProgressEvent = Parameters<NonNullable<RunOptions['onProgress']>>[0];

/**
 * Progress bars on stderr (cli-progress), for a person watching: drawn only
 * when the stream is a terminal, so nothing reaches a pipe, a file or CI
 * logs, and stdout (--json, --csv) is never touched. One bar covers the
 * whole of what the command does (every combination of a matrix, every
 * point of a bench), so its ETA is the time until the command ends.
 */

/** Where a bar draws: process.stderr, or a stand-in terminal in tests. */
export type BarStream = Pick<NodeJS.WriteStream, 'write'> & { isTTY?: boolean; columns?: number };

interface BarOptions {
  /** Default: process.stderr (drawn on only when it is a terminal and the CLI's output is not captured: io.ts). */
  stream?: BarStream;
  /** Default: whether the stream is a terminal. */
  enabled?: boolean;
}

/** cli-progress, loaded when a bar is first drawn (only on a terminal): 14 ms of every process start otherwise. */
const requireHere = createRequire(import.meta.url);

/** One line, drawn by `line`; the ETA reads `?` until the payload says a rate is known (`etaKnown`). */
function makeBar(stream: BarStream, etaBuffer: number, line: (bar: string, eta: string, payload: Record<string, unknown>) => string): CliProgress.SingleBar {
  const cliProgress = requireHere('cli-progress') as typeof CliProgress;
  return new cliProgress.SingleBar(
    {
      stream: stream as NodeJS.WritableStream,
      format: (options, params, payload) => {
        // cli-progress estimates from the values it was given since start(): none yet, no estimate.
        const eta = Number(params.eta);
        const known = (payload as { etaKnown?: boolean }).etaKnown && Number.isFinite(eta);
        const etaText = params.value >= params.total ? '0s' : known ? cliProgress.Format.TimeFormat(eta, options, 1) : '?';
        return line(cliProgress.Format.BarFormat(params.progress, options), etaText, payload as Record<string, unknown>);
      },
      hideCursor: true,
      clearOnComplete: true,
      // Our own SIGINT handling (interrupt.ts) stops the bar; cli-progress must not add its own.
      gracefulExit: false,
      linewrap: false,
      barsize: 24,
      fps: 10,
      etaBuffer,
    },
    cliProgress.Presets.shades_classic,
  );
}

/** Live progress of a run on stderr, or nothing when stderr is not a terminal. */
export interface Progress {
  onProgress?: RunOptions['onProgress'];
  stop(): void;
}

/**
 * One bar for a whole `smpsim run`: every combination of the matrix, by
 * iterations (combinations x iterations each), or by time with --duration
 * (combinations x the duration, each combination running for that long).
 * The violations shown are the run's so far, over every combination.
 */
export function createProgress(opts: { durationMs?: number } & BarOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  const enabled = opts.enabled ?? (opts.stream ? Boolean(stream.isTTY) : stderrIsTerminal());
  if (!enabled) return { stop() {} };
  const bar = makeBar(stream, 50, (b, eta, p) => `[${p.combo}] ${p.label} [${b}] ${p.progress} | ETA ${eta} | ${p.violations} violations | ${p.rate} it/s`);
  let current = -1;
  // When this combination's first event came, and its iteration count then: its rate is measured from there.
  let t0 = 0;
  let i0 = 0;
  let events = 0;
  // Once stopped (the run ended, or a signal asked it to) the bar stays gone: the
  // iteration that ends after a Ctrl-C must not draw it again under the message.
  let stopped = false;
  // Violations of the combinations finished, and the last count of the one running.
  let violationsBefore = 0;
  let violationsHere = 0;
  const onProgress = (p: ProgressEvent): void => {
    if (stopped) return;
    const now = performance.now();
    // By iterations when the run has a count, else by elapsed time (--duration).
    const byTime = !Number.isFinite(p.iterations) && opts.durationMs !== undefined;
    const per = byTime ? Math.ceil(opts.durationMs! / 1000) : p.iterations;
    if (p.combination !== current) {
      current = p.combination;
      violationsBefore += violationsHere;
      violationsHere = 0;
      t0 = now;
      i0 = p.iteration;
    }
    violationsHere = p.violations;
    const elapsed = (now - t0) / 1000;
    const here = byTime ? Math.min(Math.floor(elapsed), per) : p.iteration;
    // Combinations before this one count in full, whether they ran every iteration or stopped early.
    const value = p.combination * per + here;
    const progress = byTime ? `${p.iteration} it, ${Math.floor(elapsed)}/${per} s` : `${value}/${p.combinations * per} it`;
    const rate = p.iteration > i0 ? ((p.iteration - i0) / elapsed).toFixed(0) : '-';
    const payload = { combo: `${p.combination + 1}/${p.combinations}`, label: p.label, violations: violationsBefore + violationsHere, rate, progress, etaKnown: events > 0 };
    if (events++ === 0) bar.start(p.combinations * per, value, payload);
    else bar.update(value, payload);
  };
  return {
    onProgress,
    stop() {
      if (events > 0 && !stopped) bar.stop();
      stopped = true;
    },
  };
}

/** A bar over a bench's steps (rounds, points, policies). */
export interface StepProgress {
  /** A step begins: `detail` says what it measures ("4 CPUs, ipi"); the steps before it are done. */
  step(detail: string): void;
  stop(): void;
}

/** `label`: "bench shootdown"; `total` steps, called `unit` ("points"). */
export function createStepProgress(label: string, total: number, unit: string, opts: BarOptions = {}): StepProgress {
  const stream = opts.stream ?? process.stderr;
  const enabled = opts.enabled ?? (opts.stream ? Boolean(stream.isTTY) : stderrIsTerminal());
  if (!enabled) return { step() {}, stop() {} };
  // The ETA from every step so far: steps are few and alike.
  const bar = makeBar(stream, Math.max(2, total + 1), (b, eta, p) => `${label} [${b}] ${p.done}/${total} ${unit} | ETA ${eta} | ${p.detail}`);
  let begun = 0;
  let stopped = false;
  return {
    step(detail) {
      if (stopped) return;
      const done = Math.min(begun, total);
      begun++;
      if (done === 0) bar.start(total, 0, { done, detail, etaKnown: false });
      else bar.update(done, { done, detail, etaKnown: true });
    },
    stop() {
      if (begun > 0 && !stopped) bar.stop();
      stopped = true;
    },
  };
}
