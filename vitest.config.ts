import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: [
      'native/test/**/*.test.ts',
      'select-engine/test/**/*.test.ts',
      'server/test/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // vitest's default (one file per core but one) runs one file at a time on 2 cores, yet the integration files
    // mostly wait on the servers they start (test/cluster/partition.test.ts: 29 CPU-s over 63 s; leader 20 over 50):
    // at least two files at once. Every file starts its own servers on free ports, so files never share state.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
