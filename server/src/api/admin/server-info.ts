// MinIO's server information (GET /minio/admin/v3/info, madmin.InfoMessage) and data usage
// (GET /minio/admin/v3/datausageinfo, madmin.DataUsageInfo), as minio-py's MinioAdmin.info() and
// get_data_usage_info(), madmin-go and `mc admin info` read them. Cairn is one node: one server entry, one pool.
// Usage is counted by a walk of every bucket's versions, bounded (USAGE_MAX_VERSIONS) and shared by concurrent
// callers; past the bound the counts are partial and say so (madmin's `error` fields, Cairn's `partial`).
import type { ObjectLayer, SetState } from '../../storage/object-layer.js';

/** What the server tells the admin API about itself. */
export interface ServerIdentity {
  version: string;
  /** When this serving process started (ms since the epoch). */
  startedAt: number;
  /** `host:port` clients reach it at. */
  endpoint: string;
  scheme: 'http' | 'https';
  region: string;
  domains: string[];
}

/** Versions counted per usage walk at most: a walk reads every version's metadata. */
export const USAGE_MAX_VERSIONS = 1_000_000;
/** Versions listed per page of the walk. */
const PAGE = 1000;

export interface BucketUsage {
  size: number;
  objectsCount: number;
  versionsCount: number;
  deleteMarkersCount: number;
  /** Objects (latest versions) by size range, MinIO's ranges and names (SIZE_RANGES). */
  objectsSizesHistogram: Record<string, number>;
}

/** MinIO's object size ranges (cmd/object-api-datatypes.go, the ones its metrics export): name, smallest size. */
export const SIZE_RANGES: readonly (readonly [string, number])[] = [
  ['LESS_THAN_1024_B', 0],
  ['BETWEEN_1024B_AND_1_MB', 1024],
  ['BETWEEN_1_MB_AND_10_MB', 1024 ** 2],
  ['BETWEEN_10_MB_AND_64_MB', 10 * 1024 ** 2],
  ['BETWEEN_64_MB_AND_128_MB', 64 * 1024 ** 2],
  ['BETWEEN_128_MB_AND_512_MB', 128 * 1024 ** 2],
  ['GREATER_THAN_512_MB', 512 * 1024 ** 2],
];

/** The SIZE_RANGES name of an object of `size` bytes. */
function sizeRange(size: number): string {
  let name = SIZE_RANGES[0][0];
  for (const [n, from] of SIZE_RANGES) if (size >= from) name = n;
  return name;
}

/** What one storage tier holds: madmin.TierStats. */
export interface TierStats {
  totalSize: number;
  numVersions: number;
  numObjects: number;
}

/** The tier of versions still on the drives, as MinIO names it (its "hot tier"). */
export const HOT_TIER = 'STANDARD';

export interface DataUsage {
  lastUpdate: string;
  objectsCount: number;
  versionsCount: number;
  deleteMarkersCount: number;
  objectsTotalSize: number;
  bucketsCount: number;
  bucketsUsageInfo: Record<string, BucketUsage>;
  bucketsSizes: Record<string, number>;
  capacity?: number;
  freeCapacity?: number;
  usedCapacity?: number;
  /** Versions (not delete markers) per tier: HOT_TIER for data on the drives, else the remote tier's name. */
  tierStats: Record<string, TierStats>;
  /** The walk stopped at USAGE_MAX_VERSIONS: the counts are lower bounds. */
  partial?: boolean;
}

/**
 * Walks every bucket's versions: sizes of all versions (what is stored, delete markers aside), objects (keys
 * whose latest version is not a delete marker), versions, delete markers.
 */
async function walkUsage(storage: ObjectLayer, limit: number): Promise<DataUsage> {
  const buckets = await storage.listBuckets();
  const usage: Record<string, BucketUsage> = {};
  const tiers: Record<string, TierStats> = {};
  let seen = 0;
  let partial = false;
  for (const b of buckets) {
    const u: BucketUsage = {
      size: 0,
      objectsCount: 0,
      versionsCount: 0,
      deleteMarkersCount: 0,
      objectsSizesHistogram: Object.fromEntries(SIZE_RANGES.map(([n]) => [n, 0])),
    };
    usage[b.name] = u;
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      if (seen >= limit) {
        partial = true;
        break;
      }
      const page = await storage.listObjectVersions(b.name, {
        keyMarker,
        versionIdMarker,
        maxKeys: Math.min(PAGE, limit - seen),
      });
      for (const v of page.versions) {
        seen++;
        if (v.deleteMarker) u.deleteMarkersCount++;
        else {
          u.versionsCount++;
          u.size += v.size;
          if (v.isLatest) {
            u.objectsCount++;
            u.objectsSizesHistogram[sizeRange(v.size)]++;
          }
          const name = v.transition?.tier ?? HOT_TIER;
          const t = (tiers[name] ??= { totalSize: 0, numVersions: 0, numObjects: 0 });
          t.totalSize += v.size;
          t.numVersions++;
          if (v.isLatest) t.numObjects++;
        }
      }
      if (!page.isTruncated) break;
      keyMarker = page.nextKeyMarker;
      versionIdMarker = page.nextVersionIdMarker;
    }
    if (partial) break;
  }
  const total = (f: (u: BucketUsage) => number) => Object.values(usage).reduce((a, u) => a + f(u), 0);
  return {
    lastUpdate: new Date().toISOString(),
    objectsCount: total((u) => u.objectsCount),
    versionsCount: total((u) => u.versionsCount),
    deleteMarkersCount: total((u) => u.deleteMarkersCount),
    objectsTotalSize: total((u) => u.size),
    bucketsCount: buckets.length,
    bucketsUsageInfo: usage,
    bucketsSizes: Object.fromEntries(Object.entries(usage).map(([k, u]) => [k, u.size])),
    tierStats: tiers,
    ...(partial ? { partial: true } : {}),
  };
}

/** Usable bytes of the online drives: each set's data share. */
function usable(sets: SetState[], pick: (d: SetState['drives'][number]) => number): number {
  let sum = 0;
  for (const s of sets) {
    const raw = s.drives.filter((d) => d.online).reduce((a, d) => a + pick(d), 0);
    sum += (raw * s.data) / (s.data + s.parity);
  }
  return Math.floor(sum);
}

/** Counts usage; callers arriving while a walk runs share it. */
export class UsageCounter {
  private running?: Promise<DataUsage>;
  private last?: { at: number; usage: DataUsage };

  constructor(
    private readonly storage: ObjectLayer,
    private readonly limit = USAGE_MAX_VERSIONS,
  ) {}

  count(): Promise<DataUsage> {
    this.running ??= walkUsage(this.storage, this.limit)
      .then((usage) => {
        this.last = { at: Date.now(), usage };
        return usage;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  /** The last count made in this process, however old; none yet: undefined. Never starts a walk. */
  cached(): DataUsage | undefined {
    return this.last?.usage;
  }

  /** The last count if it is at most `maxAgeMs` old, else a new one (metrics scrapes: MinIO caches a minute). */
  recent(maxAgeMs: number): Promise<DataUsage> {
    const last = this.last;
    return last && Date.now() - last.at <= maxAgeMs ? Promise.resolve(last.usage) : this.count();
  }

  /** madmin.DataUsageInfo; with the usable capacity when `capacity` (as `mc admin info` asks). */
  async dataUsageInfo(capacity: boolean): Promise<DataUsage> {
    const usage = await this.count();
    if (!capacity) return usage;
    const sets = await this.storage.storageState();
    const total = usable(sets, (d) => d.totalBytes);
    const free = usable(sets, (d) => d.freeBytes);
    return { ...usage, capacity: total, freeCapacity: free, usedCapacity: Math.max(total - free, 0) };
  }
}

/** The drives as madmin.Disk entries (one node, one pool), set by set. */
export function madminDisks(sets: SetState[]) {
  return sets.flatMap((s, setIndex) =>
    s.drives.map((d, diskIndex) => ({
      endpoint: d.path,
      path: d.path,
      state: d.online ? 'ok' : 'offline',
      ...(d.healing ? { healing: true } : {}),
      uuid: d.id,
      major: 0,
      minor: 0,
      totalspace: d.totalBytes,
      usedspace: d.usedBytes,
      availspace: d.freeBytes,
      used_inodes: 0,
      local: true,
      pool_index: 0,
      set_index: setIndex,
      disk_index: diskIndex,
    })),
  );
}

const PARTIAL = `more than ${USAGE_MAX_VERSIONS} versions: counted up to that many`;

/** madmin.InfoMessage of this one-node server. */
export async function serverInfo(storage: ObjectLayer, usage: UsageCounter, me: ServerIdentity): Promise<unknown> {
  const [sets, counted] = await Promise.all([storage.storageState(), usage.count().catch((e: Error) => e)]);
  const failed = counted instanceof Error ? counted.message : counted.partial ? PARTIAL : undefined;
  const count = (n: (u: DataUsage) => number) => ({
    count: counted instanceof Error ? 0 : n(counted),
    ...(failed ? { error: failed } : {}),
  });
  const drives = madminDisks(sets);
  const online = drives.filter((d) => d.state === 'ok').length;
  const pool: Record<number, unknown> = {};
  sets.forEach((s, id) => {
    const raw = s.drives.reduce((a, d) => a + d.totalBytes, 0);
    const used = s.drives.reduce((a, d) => a + d.usedBytes, 0);
    pool[id] = {
      id,
      rawUsage: used,
      rawCapacity: raw,
      healDisks: s.drives.filter((d) => d.healing).length,
    };
  });
  return {
    mode: online > 0 ? 'online' : 'offline',
    ...(me.domains.length ? { domain: me.domains } : {}),
    region: me.region,
    deploymentID: storage.deploymentId,
    buckets: count((u) => u.bucketsCount),
    objects: count((u) => u.objectsCount),
    versions: count((u) => u.versionsCount),
    deletemarkers: count((u) => u.deleteMarkersCount),
    usage: { size: counted instanceof Error ? 0 : counted.objectsTotalSize, ...(failed ? { error: failed } : {}) },
    services: {},
    backend: {
      backendType: 'Erasure',
      onlineDisks: online,
      offlineDisks: drives.length - online,
      standardSCParity: sets[0]?.parity ?? 0,
      rrSCParity: sets[0]?.rrsParity ?? 0,
      totalSets: [sets.length],
      totalDrivesPerSet: [sets[0]?.drives.length ?? 0],
    },
    servers: [
      {
        state: 'online',
        endpoint: me.endpoint,
        scheme: me.scheme,
        uptime: Math.floor((Date.now() - me.startedAt) / 1000),
        version: me.version,
        commitID: '',
        network: { [me.endpoint]: 'online' },
        drives,
        poolNumber: 1,
        mem_stats: { Alloc: process.memoryUsage().heapUsed },
        runtime_version: `node ${process.version}`,
      },
    ],
    pools: { 0: pool },
  };
}
