// What bounds a worker's memory beyond storage's budgets (buffer pool, read cache, metadata files, which
// the workers split): the node flags and environment the primary forks it with. Measured with bench/load's
// suite on 2 workers (RSS of all processes, 2026-12-05): V8's defaults on a machine with a lot of memory let
// each worker's heap grow to ~4 GB with a young generation of 64 MB semi-spaces, and the garbage waiting
// for a collection kept ~80 MB of external buffers alive per worker; glibc's dynamic mmap threshold then
// served the 1 MiB blocks from its arenas, which grew and stayed. Peak 1,180 MB; with these 560-600 MB.
// An operator's own flags win: a flag named in the primary's execArgv or NODE_OPTIONS, or GLIBC_TUNABLES,
// MALLOC_MMAP_THRESHOLD_ or MALLOC_ARENA_MAX in its environment, is left as given.

/**
 * V8 old generation per worker (MB). A worker keeps ~50 MB live after a suite run; its share of the listing
 * cache (storage/list/listing-cache.ts, ~250 bytes an entry) at most ~60 MB more with 2 workers.
 */
export const WORKER_OLD_SPACE_MB = 192;
/** V8 semi-space per worker (MB): a young generation of 2 x 8 MB, scavenged often, cheaply (few survive). */
export const WORKER_SEMI_SPACE_MB = 8;
/**
 * V8's first old-generation limit per worker (MB). Socket reads of a big upload are 64 KiB buffers outside
 * the heap; with a small heap V8 answered their churn with a mark-compact every ~150 ms (65 in a 10 s 64 MiB
 * PUT run). Starting the limit higher makes them rarer: 64 (128) MB halved (quartered) them, 64 MiB PUT CPU
 * per GiB -15 to -19% (-28%), suite peak RSS +35 (+100) MB; 48 is the most that kept the peak < 600 MB.
 */
export const WORKER_INITIAL_OLD_SPACE_MB = 48;
/**
 * glibc's mmap threshold (bytes): allocations from here up get their own mapping, given back when freed.
 * Set, it no longer rises to the largest block freed (up to 32 MB), which let 1 MiB blocks fill the arenas.
 */
export const WORKER_MMAP_THRESHOLD = 128 * 1024;

/**
 * V8 counts memory outside its heap (Buffers: the 64 KiB socket reads of an upload, a remote node's answers)
 * against a limit of its own, about 64 MB above what the last collection left, and runs a full mark-compact
 * each time it is passed, however small the heap. With this flag that memory counts in the heap's global limit
 * instead, which V8 sizes by its usual heuristics: a 64 MiB PUT (one process, load 16-18) 5.5-5.7 -> 4.9 CPU-s
 * per GiB; a client taking 1 GiB through node:http 28 mark-compacts -> 1 (bench/load/README.md, 2026-12-07).
 */
export const EXTERNAL_MEMORY_FLAG = '--external-memory-accounted-in-global-limit';

/** Whether `flags` name the V8 flag `name` (`--max-old-space-size`), which V8 also takes with underscores. */
function names(flags: readonly string[], name: string): boolean {
  const bare = (f: string) => f.split('=')[0].replaceAll('_', '-');
  return flags.some((f) => bare(f) === name);
}

/**
 * The V8 flags every serving process and thread sets itself at start (cli/server.ts: one process, the primary
 * before its threads, each forked worker): EXTERNAL_MEMORY_FLAG, unless the operator named it or its
 * `--no-` form in the node flags or NODE_OPTIONS.
 */
export function serverV8Flags(execArgv: readonly string[], nodeOptions = ''): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/).filter(Boolean)];
  const negated = `--no-${EXTERNAL_MEMORY_FLAG.slice(2)}`;
  return names(given, EXTERNAL_MEMORY_FLAG) || names(given, negated) ? [] : [EXTERNAL_MEMORY_FLAG];
}

/** The node flags of a worker: the primary's, and the heap bounds it does not set itself. */
export function workerExecArgv(execArgv: readonly string[], nodeOptions = ''): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/).filter(Boolean)];
  const out = [...execArgv];
  if (!names(given, '--max-old-space-size') && !names(given, '--max-heap-size'))
    out.push(`--max-old-space-size=${WORKER_OLD_SPACE_MB}`);
  if (!names(given, '--max-semi-space-size')) out.push(`--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`);
  if (!names(given, '--initial-old-space-size') && !names(given, '--initial-heap-size'))
    out.push(`--initial-old-space-size=${WORKER_INITIAL_OLD_SPACE_MB}`);
  // For the one memory-reducing collection a worker runs once it serves (cluster/worker.ts).
  if (!names(given, '--expose-gc')) out.push('--expose-gc');
  return out;
}

/**
 * V8 flags of `workerExecArgv`'s that a worker thread does not get from `resourceLimits` (spawn.ts): the
 * first old-generation limit (without it a threads server's 64 MiB PUTs ran a mark-compact every ~300 ms:
 * 53 in a 20 s warp run against 12 with it, 11.4 against 6.9 CPU-s per GiB) and --expose-gc. They are the
 * process's flags, set before the first thread starts (isolates made afterwards take them).
 */
export function threadV8Flags(flags: readonly string[]): string[] {
  return flags.filter((f) => names([f], '--initial-old-space-size') || names([f], '--expose-gc'));
}

/** Node flags node takes from NODE_OPTIONS (others, --initial-old-space-size among them, it refuses there). */
const NODE_OPTIONS_FLAGS = ['--max-old-space-size', '--max-semi-space-size', '--max-heap-size', '--expose-gc'];

/**
 * The single executable (`cairn` built by scripts/build-binary.mjs) reads no node flags from its command line,
 * only from NODE_OPTIONS: its workers get theirs there, those node accepts in it (a worker of the executable
 * starts with V8's own initial old-generation limit).
 */
export function executableWorkerNodeOptions(flags: readonly string[], nodeOptions = ''): string {
  const taken = flags.filter((f) => NODE_OPTIONS_FLAGS.includes(f.split('=')[0].replaceAll('_', '-')));
  return [nodeOptions, ...taken].filter(Boolean).join(' ');
}

/**
 * glibc arenas per worker: the event loop's and one shared by the libuv threads. One per thread (up to 8 per
 * core) each kept their own high-water mark of freed buffers: 2 cut the suite's peak by ~50 MB, at no CPU
 * cost bench/load could see.
 */
export const WORKER_MALLOC_ARENAS = 2;

/**
 * Environment added to a forked worker's (node:cluster passes the primary's): the malloc settings, unless set.
 * Worker threads (the default mode) never get them: glibc reads GLIBC_TUNABLES once, when a process starts, and
 * threads run in the primary's process, which keeps glibc's dynamic mmap threshold and its arenas per core unless
 * `cairn server` itself was started with GLIBC_TUNABLES (session 19: arena_max=2 was worth ~10 MB of a threads
 * suite's peak). Applying them to threads would take mallopt(3) at start (native) or a re-exec of the primary.
 */
export function workerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const tuned = ['GLIBC_TUNABLES', 'MALLOC_MMAP_THRESHOLD_', 'MALLOC_ARENA_MAX'].some((n) => env[n] !== undefined);
  if (tuned) return {};
  return {
    GLIBC_TUNABLES: `glibc.malloc.mmap_threshold=${WORKER_MMAP_THRESHOLD}:glibc.malloc.arena_max=${WORKER_MALLOC_ARENAS}`,
  };
}
