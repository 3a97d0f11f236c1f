/**
 * The long versions of checks that `npm test` runs short. `npm test` must stay
 * quick on a 2-core machine, so false-positive hunts that gain only by
 * running longer take a small iteration count there; `npm run test:long`
 * (SMPSIM_LONG_TESTS=1) gives them the counts they ran with before, for a
 * change to the machine, the kernel model or the harness that wants more
 * assurance. The soak (`npm run soak`) is longer still for the shipped
 * scenarios.
 */
export const LONG_TESTS = process.env.SMPSIM_LONG_TESTS === '1';

/** `short` in `npm test`, `long` in `npm run test:long`. */
export function shortOrLong<T>(short: T, long: T): T {
  return LONG_TESTS ? long : short;
}
