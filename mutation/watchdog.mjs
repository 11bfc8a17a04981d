// A setup file of mutation runs (mutation/vitest.config.ts): stops a mutant that loops for ever within a
// test, in seconds and without killing the test process.
//
// Stryker's own guards: its hit limit (a mutant's code run 100 times as often as in the whole dry run) can be
// millions of hits, and a loop that allocates (text += ... in a loop whose exit the mutant removed) exhausts
// memory long before; its timeout (3x the tests' net time, plus timeoutMS, plus the dry run's start-up
// overhead) then waits a minute or more and restarts the test runner. Here, each time the active mutant's code
// runs, Stryker's switch adds one to __stryker__.hitCount: that counter becomes an accessor which, once one
// test has run past its budget, throws instead. The test fails (a kill), and the hit count then reads as
// past any limit, so that Stryker reports the mutant as a Timeout ("Hit limit reached"), as for its own limit.
//
// A loop that never passes through the mutated code (a mutant that hands bad input to a loop elsewhere) is not
// seen here and still ends at Stryker's timeout.
//
// Each test's budget comes from its own time in Stryker's dry run, by Stryker's own rule for a mutant run
// (timeoutFactor times the time, plus timeoutMS; mutation/run.mjs passes both): a test that took t ms in the
// dry run is stopped at factor * t + ms. Stryker's timeout covers every test of the mutant run, and its start-up
// too, so this one comes first. In the dry run each test's time is appended to a file in Stryker's sandbox; a
// test with no time there (none was recorded) gets TEST_BUDGET_MS.
import { appendFileSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, inject } from 'vitest';

/** The budget of a test without a dry-run time: well past any test of a mutated module, instrumented, loaded. */
export const TEST_BUDGET_MS = 60_000;
/** The clock is read once every this many hits. */
export const HITS_PER_CHECK = 1024;

/**
 * Makes ns.hitCount an accessor that throws once a test has run its budget (by `now`) and reads as
 * Number.MAX_SAFE_INTEGER from then on, until Stryker resets it to 0. Returns testStarted(budgetMs?), to call
 * as each test starts (with that test's budget; budgetMs when left out).
 */
export function watchHits(ns, budgetMs = TEST_BUDGET_MS, now = () => performance.now()) {
  let hits = 0;
  let started = now();
  let budget = budgetMs;
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
      if (tripped || (hits % HITS_PER_CHECK === 0 && now() - started > budget)) {
        tripped = true;
        throw new Error(`Stryker: Hit count limit reached (watchdog: the mutant ran ${budget} ms in one test)`);
      }
    },
  });
  return (testBudgetMs = budgetMs) => {
    started = now();
    budget = testBudgetMs;
  };
}

/**
 * The budget of each test, from the dry-run times file (lines of [test, ms]; the longest time of a test
 * counts): factor * ms + slackMs.
 */
export function budgetsFrom(text, { factor, slackMs }) {
  const budgets = new Map();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [test, ms] = JSON.parse(line);
    budgets.set(test, Math.max(budgets.get(test) ?? 0, Math.ceil(factor * ms + slackMs)));
  }
  return budgets;
}

/** A test's name as the times file has it: its file and its names from the outermost suite. */
function testName(task) {
  const names = [];
  for (let t = task; t; t = t.suite) names.unshift(t.name);
  return `${task.file?.filepath}#${names.join(' > ')}`;
}

// Provided by Stryker's vitest runner (its own setup file, which runs before this one, reads them too).
// Outside a mutation run nothing is provided and nothing is installed.
const mode = inject('mode');
const ns = globalThis[inject('globalNamespace') ?? '__stryker__'];
const TIMES = fileURLToPath(new URL('./.dry-run-times.jsonl', import.meta.url));
const timeout = process.env.CAIRN_MUTATION_TIMEOUT && JSON.parse(process.env.CAIRN_MUTATION_TIMEOUT);
if (mode === 'dry-run' && timeout) {
  let started = 0;
  beforeEach(() => {
    started = performance.now();
  });
  afterEach(({ task }) => {
    appendFileSync(TIMES, `${JSON.stringify([testName(task), performance.now() - started])}\n`);
  });
}
if (mode === 'mutant' && ns) {
  let budgets = new Map();
  try {
    if (timeout) budgets = budgetsFrom(readFileSync(TIMES, 'utf8'), timeout);
  } catch {
    // No dry-run times (Stryker did not run this setup file in its dry run): every test gets TEST_BUDGET_MS.
  }
  const testStarted = watchHits(ns);
  beforeEach(({ task }) => testStarted(budgets.get(testName(task))));
}
