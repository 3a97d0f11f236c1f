/**
 * SIGINT during a run: the first asks the runner to stop at the next
 * iteration (shouldStop), the second exits at once with 130.
 */
export interface Interrupt {
  readonly requested: boolean;
  shouldStop: () => boolean;
  dispose(): void;
}

export function watchInterrupt(onFirst?: () => void): Interrupt {
  let requested = false;
  const handler = (): void => {
    if (requested) {
      process.stderr.write('\nsmpsim: interrupted again, exiting\n');
      process.exit(130);
    }
    requested = true;
    onFirst?.();
    process.stderr.write('\nsmpsim: interrupt: stopping after the current iteration (Ctrl-C again to quit now)\n');
  };
  process.on('SIGINT', handler);
  return {
    get requested() {
      return requested;
    },
    shouldStop: () => requested,
    dispose() {
      process.off('SIGINT', handler);
    },
  };
}
