// The vitest configuration of mutation runs (mutation/run.mjs). Stryker runs the tests in a copy of the tree
// (its sandbox) holding the mutated sources; node_modules is a link to the real one, whose workspace links
// (@cairn/server, @cairn/select-engine) lead back to the unmutated tree. The aliases keep every import inside
// the copy. The test files of the module under test come from CAIRN_MUTATION_TESTS: a mutant that only module
// loading reaches ("static") reruns them all, never the whole suite.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import base from '../vitest.config.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const tests = process.env.CAIRN_MUTATION_TESTS;

export default defineConfig({
  ...base,
  root: here('..'),
  resolve: {
    ...base.resolve,
    alias: [
      { find: /^@cairn\/server$/, replacement: here('../server/src/index.ts') },
      { find: /^@cairn\/select-engine$/, replacement: here('../select-engine/src/index.ts') },
    ],
  },
  // Replaces (not merges with) the suite's list. The watchdog (after Stryker's own setup file) stops a mutant
  // looping in one test within seconds.
  test: {
    ...base.test,
    ...(tests ? { include: JSON.parse(tests) as string[] } : {}),
    setupFiles: [here('./watchdog.mjs')],
  },
});
