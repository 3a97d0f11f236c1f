// The helper users get as `smpsim/testing`: race tests for a scenario in a few lines
// (raceTests asserts with expect that each combination comes out as declared).
import armDelayedFree from '../../scenarios/arm-delayed-free.js';
import { raceTests } from '../../src/testing/vitest.js';

raceTests(
  {
    ...armDelayedFree,
    combinations: [
      { arch: 'arm-2.6.37', hw: 'arm11mpcore', expect: 'caught' },
      { arch: 'arm-2.6.38', hw: 'armv7-mp', expect: 'clean' },
    ],
  },
  // The helper's mechanism, briefly: test/scenarios/ checks the scenario itself.
  { cpus: 3, catchWithin: 30, cleanIterations: 10 },
);
