// The root vitest config lists only the product packages; the load generator's own tests run with
// `npx vitest run --config bench/load/vitest.config.ts` (they are quick and start no server of Cairn).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { root: import.meta.dirname, include: ['**/*.test.ts'], testTimeout: 60_000, pool: 'forks' },
});
