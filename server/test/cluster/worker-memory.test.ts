// The node flags and environment a worker is forked with (cluster/worker-memory.ts): the heap bounds and the
// malloc setting are added, and an operator's own (the primary's flags, NODE_OPTIONS, GLIBC_TUNABLES) win.
import { describe, expect, it } from 'vitest';
import {
  EXTERNAL_MEMORY_FLAG,
  WORKER_INITIAL_OLD_SPACE_MB,
  WORKER_MALLOC_ARENAS,
  WORKER_MMAP_THRESHOLD,
  WORKER_OLD_SPACE_MB,
  WORKER_SEMI_SPACE_MB,
  executableWorkerNodeOptions,
  serverV8Flags,
  threadV8Flags,
  workerEnv,
  workerExecArgv,
} from '../../src/cluster/worker-memory.js';

const OLD = `--max-old-space-size=${WORKER_OLD_SPACE_MB}`;
const SEMI = `--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`;
const INITIAL = `--initial-old-space-size=${WORKER_INITIAL_OLD_SPACE_MB}`;
const GC = '--expose-gc'; // for the one collection a worker runs once it serves (cluster/worker.ts)

describe('workerExecArgv', () => {
  it("adds the heap bounds and the first old-generation limit after the primary's flags", () => {
    expect(workerExecArgv(['--conditions=source', '--import', 'tsx'])).toEqual([
      '--conditions=source',
      '--import',
      'tsx',
      OLD,
      SEMI,
      INITIAL,
      GC,
    ]);
    expect(workerExecArgv([])).toEqual([OLD, SEMI, INITIAL, GC]);
  });

  it('keeps a bound the operator gave, in the flags or NODE_OPTIONS, in either spelling', () => {
    expect(workerExecArgv(['--max-old-space-size=1024'])).toEqual(['--max-old-space-size=1024', SEMI, INITIAL, GC]);
    expect(workerExecArgv(['--max_semi_space_size=32'])).toEqual(['--max_semi_space_size=32', OLD, INITIAL, GC]);
    const all = ' --max-old-space-size=2048  --max-semi-space-size=4 --initial-old-space-size=16 --expose-gc ';
    expect(workerExecArgv([], all)).toEqual([]);
    expect(workerExecArgv([], '--max-heap-size=512 --initial-heap-size=64')).toEqual([SEMI, GC]);
  });
});

describe('threadV8Flags', () => {
  it('gives worker threads the flags resourceLimits does not cover: the first old-generation limit and --expose-gc', () => {
    expect(threadV8Flags(workerExecArgv(['--conditions=source', '--import', 'tsx']))).toEqual([INITIAL, GC]);
    expect(threadV8Flags(workerExecArgv(['--initial_old_space_size=16']))).toEqual(['--initial_old_space_size=16', GC]);
    expect(threadV8Flags(workerExecArgv([], '--initial-heap-size=64 --expose-gc'))).toEqual([]);
  });
});

describe('serverV8Flags', () => {
  it('sets external memory in the global limit, unless the operator named the flag or its --no- form', () => {
    expect(EXTERNAL_MEMORY_FLAG).toBe('--external-memory-accounted-in-global-limit');
    expect(serverV8Flags([])).toEqual([EXTERNAL_MEMORY_FLAG]);
    expect(serverV8Flags(['--conditions=source', '--import', 'tsx'], '--max-old-space-size=512')).toEqual([
      EXTERNAL_MEMORY_FLAG,
    ]);
    expect(serverV8Flags(['--no-external-memory-accounted-in-global-limit'])).toEqual([]);
    expect(serverV8Flags(['--external_memory_accounted_in_global_limit'])).toEqual([]);
    expect(serverV8Flags([], ' --no-external_memory-accounted-in-global-limit ')).toEqual([]);
  });
});

describe('executableWorkerNodeOptions', () => {
  it("gives the single executable's workers the flags NODE_OPTIONS may hold, after the operator's own", () => {
    expect(executableWorkerNodeOptions(workerExecArgv([]))).toBe(`${OLD} ${SEMI} ${GC}`);
    expect(
      executableWorkerNodeOptions(workerExecArgv([], '--max-old-space-size=2048'), '--max-old-space-size=2048'),
    ).toBe(`--max-old-space-size=2048 ${SEMI} ${GC}`);
  });
});

describe('workerEnv', () => {
  it('fixes the mmap threshold and the arenas unless the operator tuned malloc', () => {
    expect(workerEnv({ PATH: '/bin' })).toEqual({
      GLIBC_TUNABLES: `glibc.malloc.mmap_threshold=${WORKER_MMAP_THRESHOLD}:glibc.malloc.arena_max=${WORKER_MALLOC_ARENAS}`,
    });
    expect(workerEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' })).toEqual({});
    expect(workerEnv({ MALLOC_MMAP_THRESHOLD_: '65536' })).toEqual({});
    expect(workerEnv({ MALLOC_ARENA_MAX: '4' })).toEqual({});
  });
});
