// Cairn's storage: the ObjectLayer interface (object-layer.ts: what the S3 API uses, and what another
// backend would implement) and its erasure-coded implementation on local drives (engine/erasure-objects.ts).
// The server calls openStorage() once.
import { silentLogger, type StorageContext, type StorageOptions } from './context.js';
import { aloneBus } from './coordination.js';
import { formatClusterDrives, formatDrives, openLayout } from './drive/format.js';
import { TMP_DIR } from './drive/drive.js';
import { CACHED_MAX_BYTES } from './drive/local-drive.js';
import { systemBucketWriter } from './engine/buckets.js';
import { ErasureObjects } from './engine/erasure-objects.js';
import { LISTING_CACHE_ENTRIES } from './list/listing-cache.js';
import { KeyedMutex } from './engine/locks.js';
import { BufferPool } from './erasure/buffer-pool.js';
import { ReadAhead } from './engine/read-ahead.js';
import { nativeCodec } from './erasure/codec.js';
import { expandDrives } from './expand.js';
import type { HealResult } from './heal/heal-object.js';
import type { HealStatus } from './heal/healer.js';

export * from './object-layer.js';
export { expandDrives, ErasureObjects };
export { checksumHasher, type Hasher } from './engine/checksum.js';
export type { ErasureLayout } from './engine/erasure-objects.js';
export type { StorageOptions, HealStatus, HealResult };
export type { SharedDrives, DriveLayout, NodeOfCluster } from './context.js';
export type { Change, ChangeBus, HeldLock, Locks, Release } from './coordination.js';
export { driveLayout, formatDrives, FormatPending } from './drive/format.js';
export { nasGateway, openNas, NasObjects, type NasStorageOptions } from './nas/index.js';
export { openS3Gateway, S3GatewayObjects, s3Gateway, type S3GatewayOptions } from './s3gw/index.js';

/** Formats (or checks) the drives and starts the erasure engine on them. */
export async function openStorage(opts: StorageOptions): Promise<ErasureObjects> {
  const codec = nativeCodec();
  // Options are checked before anything touches the drives.
  // The server's memory budgets; each of the processes sharing the drives keeps its share.
  const share = whole('shared.workers', opts.shared?.workers, 1, 1);
  const tuning = {
    readBatchBlocks: whole('readBatchBlocks', opts.readBatchBlocks, 4, 1),
    readAheadBatches: whole('readAheadBatches', opts.readAheadBatches, 1, 0),
    // 64 MiB: same speed, ~40 MB more RSS (bench/load)
    poolBytes: Math.floor(whole('poolBytes', opts.poolBytes, 32 * 1024 * 1024, 0) / share),
    readCacheBytes: Math.floor(whole('readCacheBytes', opts.readCacheBytes, 32 * 1024 * 1024, 0) / share),
    readCacheLingerMs: whole('readCacheLingerMs', opts.readCacheLingerMs, 2000, 0),
  };
  const shared = opts.shared;
  const node = opts.node;
  if (node && (shared || !opts.openDrive || opts.setSize === undefined))
    throw new Error('a node of a distributed deployment takes openDrive and setSize, and no workers');
  const tmpDir = shared ? `${TMP_DIR}/${shared.tmpName}` : node ? `${TMP_DIR}/${node.name}` : TMP_DIR;
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
          },
          opts.openDrive!,
        )
      : await formatDrives(opts.drives, { setSize: opts.setSize, parity: opts.parity }, opts.openDrive);
  for (const d of f.sets.flat()) d.cachedMaxBytes = Math.floor(CACHED_MAX_BYTES / share);
  const fresh = shared
    ? shared.leader
      ? f.sets.flat().filter((d) => shared.fresh.includes(d.endpoint))
      : []
    : f.fresh;
  const setSize = f.sets[0].length;
  const parity = Math.min(opts.parity ?? f.parity, Math.floor(setSize / 2));
  const rrsParity = Math.min(opts.rrsParity ?? (setSize === 1 ? 0 : Math.max(1, Math.floor(parity / 2))), parity);
  const pool = new BufferPool(tuning.poolBytes, 8 * tuning.poolBytes);
  const ctx: StorageContext = {
    deploymentId: f.deploymentId,
    blockSize: opts.blockSize ?? 1024 * 1024,
    inlineLimit: opts.inlineLimit ?? 128 * 1024,
    slowShardMs: opts.slowShardMs ?? 2000,
    readBatchBlocks: tuning.readBatchBlocks,
    readAheadBatches: tuning.readAheadBatches,
    metadataCacheMs: whole('metadataCacheMs', opts.metadataCacheMs, 0, 0),
    pool,
    readAhead: tuning.readCacheBytes > 0 ? new ReadAhead(pool, tuning.readCacheBytes, tuning.readCacheLingerMs) : null,
    readStats: { shardReads: 0, shardBytes: 0, readTasks: 0, metadataReads: 0, metadataCacheHits: 0 },
    codec,
    log: opts.log ?? silentLogger,
    tmpDir,
  };
  const objects = new ErasureObjects(
    ctx,
    f,
    { STANDARD: parity, REDUCED_REDUNDANCY: rrsParity },
    {
      coordination: shared
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
            },
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
  await objects.start(fresh);
  return objects;
}

/** A tuning option: a whole number >= min, or the default when unset. */
function whole(name: string, v: number | undefined, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < min) throw new Error(`${name}: expected a whole number >= ${min}, got ${v}`);
  return v;
}
