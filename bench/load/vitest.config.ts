// The root vitest config lists only the product packages; the load generator's and the warp script's own
// tests run with `npx vitest run --config bench/load/vitest.config.ts` (quick; they start no server).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: `${import.meta.dirname}/..`,
    include: ['load/**/*.test.ts', 'warp/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
