// mutation/watchdog.mjs: the accessor it puts on Stryker's hit counter ends a mutant stuck in a loop within one
// test. Driven here as Stryker's instrumented code drives it (its isActive switch), on a clock the test moves.
import { describe, expect, it } from 'vitest';
import { budgetsFrom, HITS_PER_CHECK, watchHits } from '../mutation/watchdog.mjs';

interface Ns {
  hitCount?: number;
  hitLimit?: number;
}

/** What Stryker's switch does each time the active mutant's code runs (instrumenter syntax-helpers.js). */
function hit(ns: Ns): void {
  if (ns.hitCount !== undefined && ++ns.hitCount > (ns.hitLimit as number)) {
    throw new Error(`Stryker: Hit count limit reached (${ns.hitCount})`);
  }
}

function setup(budget: number) {
  const clock = { t: 0 };
  const ns: Ns = {};
  const testStarted = watchHits(ns, budget, () => clock.t);
  ns.hitCount = 0; // Stryker's beforeAll
  return { clock, ns, testStarted };
}

describe('mutation watchdog', () => {
  it('counts hits as Stryker does while a test is within its budget', () => {
    const { clock, ns } = setup(1000);
    for (let i = 0; i < 5 * HITS_PER_CHECK; i++) hit(ns);
    clock.t = 999;
    for (let i = 0; i < 5 * HITS_PER_CHECK; i++) hit(ns);
    expect(ns.hitCount).toBe(10 * HITS_PER_CHECK);
    // Stryker's own limit still applies.
    ns.hitLimit = 10 * HITS_PER_CHECK + 2;
    hit(ns);
    hit(ns);
    expect(() => hit(ns)).toThrow(/Hit count limit reached/);
  });

  it('throws within HITS_PER_CHECK hits once a test has run past its budget, and reads as past any limit', () => {
    const { clock, ns } = setup(1000);
    hit(ns);
    clock.t = 1001;
    let thrown: unknown;
    let n = 0;
    for (; n <= HITS_PER_CHECK; n++) {
      try {
        hit(ns);
      } catch (e) {
        thrown = e;
        break;
      }
    }
    expect(String(thrown)).toMatch(/Hit count limit reached \(watchdog/);
    expect(n).toBeLessThan(HITS_PER_CHECK);
    expect(ns.hitCount).toBe(Number.MAX_SAFE_INTEGER);
    // A loop that catches the error and goes on is stopped at its next hit.
    expect(() => hit(ns)).toThrow(/watchdog/);
    // Stryker's reset for the next test file clears it.
    ns.hitCount = 0;
    hit(ns);
    expect(ns.hitCount).toBe(1);
  });

  it('measures each test from its own start', () => {
    const { clock, ns, testStarted } = setup(1000);
    clock.t = 900;
    for (let i = 0; i < HITS_PER_CHECK; i++) hit(ns);
    clock.t = 1500;
    testStarted();
    clock.t = 2400;
    for (let i = 0; i < 3 * HITS_PER_CHECK; i++) hit(ns);
    expect(ns.hitCount).toBe(4 * HITS_PER_CHECK);
    clock.t = 2501;
    expect(() => {
      for (let i = 0; i < HITS_PER_CHECK; i++) hit(ns);
    }).toThrow(/watchdog/);
  });

  it("gives each test the budget it is started with, else the watchdog's", () => {
    const { clock, ns, testStarted } = setup(1000);
    testStarted(5000);
    clock.t = 4900;
    for (let i = 0; i < 2 * HITS_PER_CHECK; i++) hit(ns);
    clock.t = 5001;
    expect(() => {
      for (let i = 0; i < HITS_PER_CHECK; i++) hit(ns);
    }).toThrow(/watchdog: the mutant ran 5000 ms/);
    ns.hitCount = 0;
    testStarted();
    clock.t = 6002;
    expect(() => {
      for (let i = 0; i < HITS_PER_CHECK; i++) hit(ns);
    }).toThrow(/watchdog: the mutant ran 1000 ms/);
  });

  it("derives each test's budget from its dry-run time as Stryker derives its timeout", () => {
    const text = `${JSON.stringify(['a.test.ts#x', 100.4])}\n${JSON.stringify(['a.test.ts#y', 7000])}\n${JSON.stringify(['a.test.ts#x', 90])}\n`;
    const budgets = budgetsFrom(text, { factor: 3, slackMs: 20_000 });
    expect([...budgets]).toEqual([
      ['a.test.ts#x', 20_302],
      ['a.test.ts#y', 41_000],
    ]);
    expect(budgetsFrom('', { factor: 3, slackMs: 20_000 }).size).toBe(0);
  });
});
