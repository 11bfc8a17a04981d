// Cairn's storage: the ObjectLayer interface (object-layer.ts: what the S3 API uses, and what another
// backend would implement) and its erasure-coded implementation on local drives (engine/erasure-objects.ts).
// The server calls openStorage() once (openServerPools / openNodePools for several pools).
import { silentLogger, type StorageContext, type StorageOptions } from './context.js';
import { aloneBus, KeyedMutex } from './coordination.js';
import { type Formatted, formatClusterDrives, formatDrives, openLayout } from './drive/format.js';
import { TMP_DIR } from './drive/drive.js';
import { CACHED_MAX_BYTES, LocalDrive } from './drive/local-drive.js';
import { systemBucketWriter } from './engine/buckets.js';
import { type Coordination, ErasureObjects } from './engine/erasure-objects.js';
import { LISTING_CACHE_ENTRIES } from './list/listing-cache.js';
import { BufferPool } from './erasure/buffer-pool.js';
import { ReadAhead } from './engine/read-ahead.js';
import { SharedReads } from './shared-reads.js';
import { nativeCodec } from './erasure/codec.js';
import { drivePools, expandDrives } from './expand.js';
import { type PoolsSharing, ServerPools } from './pools.js';
import { PoolList } from './pool-list.js';
import { formatPools } from './format-pools.js';
import type { HealResult } from './heal/heal-object.js';
import type { HealStatus } from './heal/healer.js';

export * from './object-layer.js';
export { drivePools, expandDrives, ErasureObjects, PoolList, ServerPools };
export { checksumHasher, type Hasher } from './engine/checksum.js';
export type { ErasureLayout } from './engine/erasure-objects.js';
export type { StorageOptions, HealStatus, HealResult };
export type { SharedDrives, DriveLayout, NodeOfCluster } from './context.js';
export type { Change, ChangeBus, HeldLock, Locks, Release } from './coordination.js';
export { driveLayout, formatDrives, FormatPending } from './drive/format.js';
export { nasGateway, openNas, NasObjects, type NasStorageOptions } from './nas/index.js';
export { openS3Gateway, S3GatewayObjects, s3Gateway, type S3GatewayOptions } from './s3gw/index.js';

/** How long buffers above `poolBytes` are kept unused before they go (see the pool's constructor). */
const POOL_IDLE_MS = 30_000;

/** Formats (or checks) the drives and starts the erasure engine on them. */
export async function openStorage(opts: StorageOptions): Promise<ErasureObjects> {
  // Options are checked before anything touches the drives.
  // The server's memory budgets; each of the processes sharing the drives keeps its share.
  const share = whole('shared.workers', opts.shared?.workers ?? opts.node?.workers, 1, 1);
  const tuning = tuningOf(opts, share);
  const shared = opts.shared;
  const node = opts.node;
  if (node && (shared || !opts.openDrive || opts.setSize === undefined))
    throw new Error('a node of a distributed deployment takes openDrive and setSize, and no workers');
  const tmpDir = shared ? `${TMP_DIR}/${shared.tmpName}` : node ? `${TMP_DIR}/${node.name}` : TMP_DIR;
  // A process alone on its drives: they may have been one pool of several (pool-list.ts), checked before any
  // drive is written to, and again (the list kept up to date) once they are formatted.
  if (!shared && !node)
    await PoolList.precheck([{ drives: opts.drives.map(opts.openDrive ?? ((r: string) => new LocalDrive(r))) }]);
  // Workers take the layout the primary formatted; a process alone formats (or checks) the drives itself;
  // a node of several formats with the others (or waits for the one that formats: FormatPending).
  const f = shared
    ? await openLayout(shared.layout, tmpDir, opts.openDrive)
    : node
      ? await formatClusterDrives(
          opts.drives,
          {
            setSize: opts.setSize!,
            parity: opts.parity,
            formatter: node.formatter,
            tmpDir,
            before: systemBucketWriter(),
            allBy: node.formatAllBy,
          },
          opts.openDrive!,
        )
      : await formatDrives(opts.drives, { setSize: opts.setSize, parity: opts.parity }, opts.openDrive);
  if (!shared && !node) await PoolList.open([{ cmdline: opts.poolName ?? opts.drives.join(' '), formatted: f }]);
  for (const d of f.sets.flat()) d.cachedMaxBytes = Math.floor(CACHED_MAX_BYTES / share);
  // A node's own disk that did not mount (formatClusterDrives; the primary of several workers says it for them).
  if (node)
    for (const d of f.sets.flat())
      if (d.lastError === 'unmounted')
        opts.log?.warn(
          `drive ${d.endpoint} is a plain folder among mount points: a disk that did not mount; offline until one is`,
        );
  const fresh = shared
    ? shared.leader
      ? f.sets.flat().filter((d) => shared.fresh.includes(d.endpoint))
      : []
    : f.fresh;
  const objects = erasureObjects(
    opts,
    f,
    makeContext(opts, tuning, f.deploymentId, tmpDir),
    coordinationOf(opts),
    share,
  );
  await objects.start(fresh);
  return objects;
}

/**
 * Server pools on this machine's drives (`cairn server ./p1/d{1...4} ./p2/d{1...4}`), served together by
 * ServerPools (pools.ts): formatted here (formatPools) by a process alone; with several workers the primary
 * formatted them and each worker opens their layouts (`shared.pools`). Each pool's locks and changes are its own
 * among the workers' (poolCoordination). Pools of nodes: openNodePools.
 */
export async function openServerPools(
  pools: string[][],
  opts: Omit<StorageOptions, 'drives'>,
  /** Each pool as the command line names it (the admin API's pool names). */
  names: string[] = pools.map((p) => p.join(',')),
): Promise<ServerPools> {
  if (opts.node) throw new Error('server pools of nodes open with openNodePools');
  if (pools.length < 2) throw new Error('server pools: give at least two');
  const shared = opts.shared;
  if (shared && shared.pools?.length !== pools.length)
    throw new Error("server pools of several workers: the primary gives each pool's layout");
  const share = whole('shared.workers', shared?.workers, 1, 1);
  const tmpDir = shared ? `${TMP_DIR}/${shared.tmpName}` : TMP_DIR;
  const formatted = shared
    ? await Promise.all(shared.pools!.map((l) => openLayout(l, tmpDir, opts.openDrive)))
    : await formatPools(pools, opts);
  // Refused before anything is served when a pool that holds objects is left out (the primary checked first).
  const list = await PoolList.open(formatted.map((f, i) => ({ cmdline: names[i], formatted: f })));
  return servePools(
    formatted,
    list,
    opts,
    names,
    tmpDir,
    share,
    shared ? { locks: shared.locks, bus: shared.bus } : undefined,
  );
}

/**
 * Server pools of nodes (`cairn server http://n{1...4}:9000/d{1...4} http://n{5...8}:9000/d{1...4}`): each pool
 * formatted as one deployment of nodes is (formatClusterDrives: by the node of its first endpoint, the others
 * wait, FormatPending), a later pool under the first's deployment id; the pool list checked over every pool's
 * drives, local and remote, and written here only by the node that formats the first pool (the drains' leader
 * writes it afterwards). Locks and changes go over the node's dsync and peer bus, each pool's its own
 * (poolCoordination); the node that holds the leader lease leads the drains (ServerPools.setLeader).
 */
export async function openNodePools(
  pools: { endpoints: string[]; setSize: number; formatter: boolean }[],
  opts: Omit<StorageOptions, 'drives'>,
  names: string[],
): Promise<ServerPools> {
  const node = opts.node;
  const openDrive = opts.openDrive;
  if (!node || !openDrive) throw new Error('server pools of nodes take the node and openDrive');
  if (pools.length < 2) throw new Error('server pools: give at least two');
  const share = whole('node.workers', node.workers, 1, 1);
  const tmpDir = `${TMP_DIR}/${node.name}`;
  await PoolList.precheck(pools.map((p) => ({ drives: p.endpoints.map(openDrive) })));
  const formatted: Formatted[] = [];
  for (const p of pools) {
    const f = await formatClusterDrives(
      p.endpoints,
      {
        setSize: p.setSize,
        parity: opts.parity,
        formatter: p.formatter,
        tmpDir,
        before: systemBucketWriter(),
        deploymentId: formatted[0]?.deploymentId,
        allBy: node.formatAllBy,
      },
      openDrive,
    );
    formatted.push(f);
  }
  const list = await PoolList.open(
    formatted.map((f, i) => ({ cmdline: names[i], formatted: f })),
    pools[0].formatter,
  );
  return servePools(formatted, list, opts, names, tmpDir, share, { locks: node.locks, bus: node.bus, nodes: true });
}

/** The engines of formatted pools, served as one. */
async function servePools(
  formatted: Formatted[],
  list: PoolList,
  opts: Omit<StorageOptions, 'drives'>,
  names: string[],
  tmpDir: string,
  share: number,
  sharing: PoolsSharing | undefined,
): Promise<ServerPools> {
  const shared = opts.shared;
  const tuning = tuningOf(opts, share);
  // One context (buffers, read-ahead, statistics) for every pool: the budgets are the server's.
  const ctx = makeContext(opts, tuning, formatted[0].deploymentId, tmpDir);
  const members = formatted.map((f, i) =>
    erasureObjects(opts, f, ctx, poolCoordination(coordinationOf(opts), i), share),
  );
  for (let i = 0; i < members.length; i++) {
    const f = formatted[i];
    const fresh = shared
      ? shared.leader
        ? f.sets.flat().filter((d) => shared.fresh.includes(d.endpoint))
        : []
      : f.fresh;
    await members[i].start(fresh);
  }
  const served = new ServerPools(members, names, ctx.log, list, sharing);
  await served.start();
  return served;
}

/**
 * Pool `i`'s share of the workers' lock service and change bus: its lock names and its changes are its own (set
 * indexes, directories and bucket documents of one pool mean nothing to another). Changes without a pool (from
 * the layers above: IAM, configuration) reach every pool. A process alone keeps each pool's own mutex.
 */
function poolCoordination(c: Coordination, i: number): Coordination {
  if (!c.shared) return c;
  const prefix = `pool${i}\0`;
  return {
    ...c,
    locks: {
      acquire: (name) => c.locks.acquire(prefix + name),
      // The lock table is the whole server's: listed once, by the first pool.
      held: () => (i === 0 ? c.locks.held() : Promise.resolve([])),
    },
    bus: {
      publish: (change) => c.bus.publish({ ...change, pool: i }),
      subscribe: (apply) =>
        c.bus.subscribe((change) => {
          if (change.pool === undefined || change.pool === i) return apply(change);
        }),
    },
  };
}

type Tuning = ReturnType<typeof tuningOf>;

function tuningOf(opts: Omit<StorageOptions, 'drives'>, share: number) {
  return {
    readBatchBlocks: whole('readBatchBlocks', opts.readBatchBlocks, 4, 1),
    readAheadBatches: whole('readAheadBatches', opts.readAheadBatches, 1, 0),
    // 64 MiB: same speed, ~40 MB more RSS (bench/load)
    poolBytes: Math.floor(whole('poolBytes', opts.poolBytes, 32 * 1024 * 1024, 0) / share),
    readCacheBytes: Math.floor(whole('readCacheBytes', opts.readCacheBytes, 32 * 1024 * 1024, 0) / share),
    readCacheLingerMs: whole('readCacheLingerMs', opts.readCacheLingerMs, 2000, 0),
    // Alone, a process has nobody to share with.
    sharedReads: opts.sharedReads ?? share > 1,
  };
}

function makeContext(
  opts: Omit<StorageOptions, 'drives'>,
  tuning: Tuning,
  deploymentId: string,
  tmpDir: string,
): StorageContext {
  // Buffers a burst of GETs used stay POOL_IDLE_MS after it (then down to poolBytes): analytics queries come
  // in bursts seconds apart, and a pool trimmed after 10 s idle made each burst allocate its buffers afresh:
  // 0.25-0.33 CPU-s/GB more of V8's GC (bench/readers/requests.ts --idle 12, bench/readers/README.md). 60 s
  // kept a burst's buffers (up to 128 MiB a worker of 2) through the next 40 s of small requests: bench/load's
  // suite peaked above 600 MB RSS under its 4 KiB runs. 30 s still covers the readers bench's pauses.
  const pool = new BufferPool(tuning.poolBytes, 8 * tuning.poolBytes, POOL_IDLE_MS);
  return {
    deploymentId,
    blockSize: opts.blockSize ?? 1024 * 1024,
    inlineLimit: opts.inlineLimit ?? 128 * 1024,
    slowShardMs: opts.slowShardMs ?? 2000,
    readBatchBlocks: tuning.readBatchBlocks,
    readAheadBatches: tuning.readAheadBatches,
    metadataCacheMs: whole('metadataCacheMs', opts.metadataCacheMs, 0, 0),
    pool,
    readAhead: tuning.readCacheBytes > 0 ? new ReadAhead(pool, tuning.readCacheBytes, tuning.readCacheLingerMs) : null,
    shared:
      tuning.sharedReads && tuning.readCacheBytes > 0
        ? new SharedReads(tuning.readCacheBytes, tuning.readCacheLingerMs)
        : null,
    readStats: {
      shardReads: 0,
      shardBytes: 0,
      readTasks: 0,
      metadataReads: 0,
      metadataCacheHits: 0,
      earlyReads: 0,
      sharedMetadata: 0,
      sharedBatches: 0,
    },
    codec: nativeCodec(),
    log: opts.log ?? silentLogger,
    tmpDir,
  };
}

function coordinationOf(opts: Omit<StorageOptions, 'drives'>): Coordination {
  const shared = opts.shared;
  const node = opts.node;
  return shared
    ? {
        locks: shared.locks,
        bus: shared.bus,
        leader: shared.leader,
        shared: true,
        name: shared.tmpName,
        // Workers are named w1 ... wN (cluster/worker.ts).
        owned: (name) => /^w[1-9][0-9]*$/.test(name) && Number(name.slice(1)) <= shared.workers,
      }
    : node
      ? {
          locks: node.locks,
          bus: node.bus,
          // One node leads at a time, chosen at run time (cluster/leader.ts calls setLeader); the others keep
          // the heal requests they hear in case they lead next. Removals a node wrote down are its own.
          leader: false,
          standby: true,
          shared: true,
          name: node.name,
          owned: (n) => n === node.name,
        }
      : {
          locks: new KeyedMutex(),
          bus: aloneBus,
          leader: true,
          shared: false,
          name: 'main',
          owned: (n) => n === 'main',
        };
}

/** The erasure engine on formatted drives. */
function erasureObjects(
  opts: Omit<StorageOptions, 'drives'>,
  f: Formatted,
  ctx: StorageContext,
  coordination: Coordination,
  share: number,
): ErasureObjects {
  const shared = ctx.shared;
  if (shared)
    for (const d of f.sets.flat())
      d.shareReads?.(shared.metadata, () => {
        ctx.readStats.sharedMetadata++;
      });
  const setSize = f.sets[0].length;
  const parity = Math.min(opts.parity ?? f.parity, Math.floor(setSize / 2));
  const rrsParity = Math.min(opts.rrsParity ?? (setSize === 1 ? 0 : Math.max(1, Math.floor(parity / 2))), parity);
  return new ErasureObjects(
    ctx,
    f,
    { STANDARD: parity, REDUCED_REDUNDANCY: rrsParity },
    {
      coordination,
      gcGraceMs: opts.gcGraceMs ?? 5000,
      listingCacheEntries: Math.floor(LISTING_CACHE_ENTRIES / share),
      // MinIO's defaults (MINIO_API_STALE_UPLOADS_EXPIRY, ..._CLEANUP_INTERVAL): 24 h, looked for every 6 h.
      staleUploadsExpiryMs: whole('staleUploadsExpiryMs', opts.staleUploadsExpiryMs, 24 * 3_600_000, 0),
      staleUploadsCleanupIntervalMs: whole(
        'staleUploadsCleanupIntervalMs',
        opts.staleUploadsCleanupIntervalMs,
        6 * 3_600_000,
        1,
      ),
      healer: {
        driveCheckIntervalMs: opts.driveCheckIntervalMs ?? 10_000,
        driveCheckTimeoutMs: opts.driveCheckTimeoutMs ?? 5000,
        scannerIntervalMs: opts.scannerIntervalMs ?? 60_000,
        scannerObjectsPerSecond: opts.scannerObjectsPerSecond ?? 50,
        scannerDeep: opts.scannerDeep ?? false,
        background: opts.background ?? true,
      },
    },
  );
}

/** A tuning option: a whole number >= min, or the default when unset. */
function whole(name: string, v: number | undefined, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < min) throw new Error(`${name}: expected a whole number >= ${min}, got ${v}`);
  return v;
}
