// A setup file of mutation runs (mutation/vitest.config.ts): stops a mutant that loops for ever within a
// test, in seconds and without killing the test process.
//
// Stryker's own guards: its hit limit (a mutant's code run 100 times as often as in the whole dry run) can be
// millions of hits, and a loop that allocates (text += ... in a loop whose exit the mutant removed) exhausts
// memory long before; its timeout (3x the tests' net time, plus timeoutMS, plus the dry run's start-up
// overhead) then waits a minute or more and restarts the test runner. Here, each time the active mutant's code
// runs, Stryker's switch adds one to __stryker__.hitCount: that counter becomes an accessor which, once one
// test has run for TEST_BUDGET_MS, throws instead. The test fails (a kill), and the hit count then reads as
// past any limit, so that Stryker reports the mutant as a Timeout ("Hit limit reached"), as for its own limit.
//
// A loop that never passes through the mutated code (a mutant that hands bad input to a loop elsewhere) is not
// seen here and still ends at Stryker's timeout.
import { beforeEach, inject } from 'vitest';

/**
 * Well past any test of a mutated module, instrumented, on a loaded machine: at 20 s one ordering.ts mutant's
 * test run (beyond-aws.test.ts, 100k-row and 33 MB cases) went past it, which could count a survivor as a
 * Timeout. Still under Stryker's own timeout (63-97 s measured, then a runner restart).
 */
export const TEST_BUDGET_MS = 60_000;
/** The clock is read once every this many hits. */
export const HITS_PER_CHECK = 1024;

/**
 * Makes ns.hitCount an accessor that throws once a test has run budgetMs (by `now`) and reads as
 * Number.MAX_SAFE_INTEGER from then on, until Stryker resets it to 0. Returns testStarted, to call as each
 * test starts.
 */
export function watchHits(ns, budgetMs = TEST_BUDGET_MS, now = () => performance.now()) {
  let hits = 0;
  let started = now();
  let tripped = false;
  Object.defineProperty(ns, 'hitCount', {
    configurable: true,
    enumerable: true,
    get: () => (tripped ? Number.MAX_SAFE_INTEGER : hits),
    set: (v) => {
      if (v === undefined || v === 0) {
        hits = 0;
        tripped = false;
        return;
      }
      hits = v;
      if (tripped || (hits % HITS_PER_CHECK === 0 && now() - started > budgetMs)) {
        tripped = true;
        throw new Error(`Stryker: Hit count limit reached (watchdog: the mutant ran ${budgetMs} ms in one test)`);
      }
    },
  });
  return () => {
    started = now();
  };
}

// Provided by Stryker's vitest runner (its own setup file, which runs before this one, reads them too).
// Outside a mutation run nothing is provided and nothing is installed.
const mode = inject('mode');
const ns = globalThis[inject('globalNamespace') ?? '__stryker__'];
if (mode === 'mutant' && ns) {
  const testStarted = watchHits(ns);
  beforeEach(testStarted);
}
