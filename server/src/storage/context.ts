// Options of openStorage and the context object passed down to every part of the engine (no globals).
import type { ChangeBus, Locks } from './coordination.js';
import type { OpenDrive } from './drive/format.js';
import type { ReadAhead } from './engine/read-ahead.js';
import type { SharedReads } from './shared-reads.js';
import type { BufferPool } from './erasure/buffer-pool.js';
import type { Codec } from './erasure/codec.js';
import type { ReadStats } from './erasure/part-reader.js';

export interface StorageOptions {
  /** Drive directories (already ellipsis-expanded, see expandDrives). 1 to 32. */
  drives: string[];
  /** The drives as the command line names them (messages about the deployment's pools); default: joined. */
  poolName?: string;
  /** Opens a drive by its endpoint; default: every endpoint is a local folder (drive/format.ts). */
  openDrive?: OpenDrive;
  /** Drives per erasure set (2..16, must divide the count); default: the largest that does. */
  setSize?: number;
  /** Parity shards for STANDARD; default setSize/2 (0 for one drive). */
  parity?: number;
  /** Parity shards for REDUCED_REDUNDANCY; default max(1, parity/2), or 0 for one drive. */
  rrsParity?: number;
  /** Objects whose shard is at most this many bytes live inside the metadata file. Default 128 KiB. */
  inlineLimit?: number;
  /** Erasure block size. Default 1 MiB. */
  blockSize?: number;
  /** How often drives are probed (dead/replaced drives). Default 10 s. */
  driveCheckIntervalMs?: number;
  /** A drive that does not answer its check within this is offline. Default 5 s. */
  driveCheckTimeoutMs?: number;
  /** Background scanner: pause between cycles (default 60 s) and objects checked per second (default 50). */
  scannerIntervalMs?: number;
  scannerObjectsPerSecond?: number;
  /** Scanner verifies every shard hash (reads all data) instead of checking presence and sizes. */
  scannerDeep?: boolean;
  /** A shard read slower than this makes a GET read one more shard (parity) in parallel. Default 2 s. */
  slowShardMs?: number;
  /** GET reads this many blocks per shard read (default 4: measured, bench/load). */
  readBatchBlocks?: number;
  /** GET keeps this many batches in flight beyond the one being sent (default 1; 0: no read-ahead). */
  readAheadBatches?: number;
  /**
   * Free big buffers (GET reads, PUT blocks and frames) kept for reuse when idle, in bytes (default 32 MiB);
   * while busy, up to 8 times this (what came back in the last 10 s: buffer-pool.ts).
   */
  poolBytes?: number;
  /**
   * Bytes of batches kept a moment after they were read, for other GETs of the same blocks (concurrent
   * ranges, footers asked again) and read ahead for sequential readers (default 32 MiB; 0: none).
   */
  readCacheBytes?: number;
  /** How long a batch stays in that cache once read (default 2 s). */
  readCacheLingerMs?: number;
  /**
   * Worker threads of one process leave the metadata files and the small batches they read where the others
   * find them (storage/shared-reads.ts): a connection that lands on a worker that never saw the object does not
   * read them again. Default: on with several workers (shared.workers > 1), off for a process alone.
   */
  sharedReads?: boolean;
  /**
   * A GET's or HEAD's metadata read answers the object's next GETs and HEADs for this long, until any
   * metadata of its erasure set changes (default 0: off). Faults made behind Cairn's back (drive files
   * removed or damaged by hand) then show only once it expired (engine/erasure-set.ts resolveForRead).
   */
  metadataCacheMs?: number;
  /** Data of replaced or deleted versions is removed this long after the change (in-flight GETs). 5 s. */
  gcGraceMs?: number;
  /** Unfinished multipart uploads older than this are removed with their parts (default 24 h). */
  staleUploadsExpiryMs?: number;
  /** How often stale uploads are looked for (default 6 h). */
  staleUploadsCleanupIntervalMs?: number;
  /** Disable the background workers (tests that want to observe the unhealed state). */
  background?: boolean;
  /** The drives are shared with other processes (`cairn server --workers`); default: this process alone. */
  shared?: SharedDrives;
  log?: Logger;
  /** One node of a distributed deployment (`drives` are endpoints in slot order, `setSize` is given). */
  node?: NodeOfCluster;
}

/** What storage needs to be one node among others (server/src/cluster/node.ts gives it). */
export interface NodeOfCluster {
  /** This node's name (`node1` ...): its temp area `.cairn.sys/tmp/<name>` and its reap logs on every drive. */
  name: string;
  /** This node formats a new deployment; the others wait for its format (drive/format.ts). */
  formatter: boolean;
  /** Until then (ms since the epoch) the formatter of a new deployment waits for every drive (drive/format.ts). */
  formatAllBy?: number;
  /** The node's workers (`--workers N`), each one of them: each takes its share of the memory budgets. */
  workers?: number;
  /** Locks and changes shared with the other nodes. */
  locks: Locks;
  bus: ChangeBus;
}

/** What a process sharing the drives with others needs (server/src/cluster gives it to each worker). */
export interface SharedDrives {
  locks: Locks;
  bus: ChangeBus;
  /** This process runs healing, the scanner and drive rebuilds: exactly one of those sharing the drives. */
  leader: boolean;
  /** The layout the drives were formatted with (by the primary, before the workers started). */
  layout: DriveLayout;
  /** Server pools: each pool's layout, in command-line order (`layout` is the first's). */
  pools?: DriveLayout[];
  /** Drives the primary formatted just now (new or replaced): the leader rebuilds them. */
  fresh: string[];
  /** This process's own temp area, `.cairn.sys/tmp/<tmpName>`, emptied when the process starts. */
  tmpName: string;
  /**
   * How many processes share the drives. The memory budgets (poolBytes, readCacheBytes, the metadata files
   * LocalDrive.readCached keeps per drive) are the server's:
   * each process keeps its share, so N workers hold what one process would.
   */
  workers: number;
}

/** Sets of drive directories with their ids (format.json), as formatDrives found or made them. */
export interface DriveLayout {
  deploymentId: string;
  parity: number;
  sets: { root: string; driveId: string }[][];
}

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  debug?(msg: string): void;
}

export interface StorageContext {
  deploymentId: string;
  blockSize: number;
  inlineLimit: number;
  slowShardMs: number;
  readBatchBlocks: number;
  readAheadBatches: number;
  /** See StorageOptions.metadataCacheMs (0: off). */
  metadataCacheMs: number;
  pool: BufferPool;
  /** Batches shared between GETs of one object, and prefetch for sequential readers (null: none). */
  readAhead: ReadAhead | null;
  /** What the worker threads of the process share of their reads (null: nothing; see sharedReads). */
  shared: SharedReads | null;
  readStats: ReadStats;
  codec: Codec;
  log: Logger;
  /** Temp area for staging writes (relative to each drive): `.cairn.sys/tmp`, or a worker's own part of it. */
  tmpDir: string;
}

export const silentLogger: Logger = { info: () => {}, warn: () => {} };
