// The shape of mutation/watchdog.mjs, for its test (test/mutation-watchdog.test.ts).
export declare const TEST_BUDGET_MS: number;
export declare const HITS_PER_CHECK: number;
export declare function watchHits(ns: object, budgetMs?: number, now?: () => number): (testBudgetMs?: number) => void;
export declare function budgetsFrom(text: string, timeout: { factor: number; slackMs: number }): Map<string, number>;
