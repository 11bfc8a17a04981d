// GET/HEAD from a set: pick the version from the quorum of metadata, then stream the blocks of the range
// part by part. Only the blocks of the range are read, in batches (one read per data shard, hashes checked
// in one native call, no copy when all data shards are good); batches are read ahead of the consumer and
// the stream pulls (backpressure). Shards found missing or corrupt put the object on the heal queue.
import { Readable } from 'node:stream';
import { S3Error } from '../../errors.js';
import type { VersionRecord } from '../meta/meta-file.js';
import { versionKey, type DriveMeta, type Resolved, toObjectInfo } from '../meta/versions.js';
import type { ByteRange, ObjectInfo, RecyclingBody } from '../object-layer.js';
import type { BufferPool } from '../erasure/buffer-pool.js';
import { fileSource, inlineSource, PartReader, type Batch, type ShardSource } from '../erasure/part-reader.js';
import type { ErasureSet } from './erasure-set.js';
import { dataDirId } from './reaper.js';

export interface Opened {
  version: VersionRecord;
  info: ObjectInfo;
  metas: DriveMeta[];
  resolved: Resolved;
}

/**
 * The version a read names (or the latest), delete markers included: what S3 answers for a marker is the
 * API layer's rule (api/object-read.ts), not storage's.
 */
export async function openVersion(set: ErasureSet, bucket: string, key: string, versionId?: string): Promise<Opened> {
  const { metas, resolved } = await set.resolve(bucket, key);
  const latest = resolved.versions[0];
  let version: VersionRecord | undefined;
  if (versionId !== undefined) {
    version = resolved.versions.find((v) => v.id === versionId);
    // A version asked for by id is NoSuchVersion even when the key has none at all, as S3 answers ('null', the
    // version of unversioned writes, stays NoSuchKey for a key that never existed).
    if (!version) throw new S3Error(resolved.versions.length || versionId !== 'null' ? 'NoSuchVersion' : 'NoSuchKey');
  } else {
    version = latest;
    if (!version) throw new S3Error('NoSuchKey');
  }
  return { version, info: toObjectInfo(bucket, key, version, version === latest), metas, resolved };
}

/** Shard sources of part index `p` of a version, indexed by shard index. */
export function partSources(
  set: ErasureSet,
  bucket: string,
  key: string,
  o: Opened,
  p: number,
  exclude?: Set<number>,
): (ShardSource | null)[] {
  const v = o.version;
  const ec = v.ec!;
  const holders = new Set(o.resolved.holders.get(versionKey(v)) ?? []);
  const objRel = set.objRel(bucket, key);
  const out: (ShardSource | null)[] = new Array(ec.data + ec.parity).fill(null);
  o.metas.forEach((m, slot) => {
    if (!holders.has(slot) || exclude?.has(slot)) return;
    const mine = m.meta!.versions.find((x) => versionKey(x) === versionKey(v))!;
    const shard = ec.dist[slot] - 1;
    if (mine.inline) {
      const b = mine.inline[p];
      out[shard] = b ? inlineSource(b) : null;
    } else if (mine.dataDir) {
      out[shard] = fileSource(set.drives[slot].abs(`${objRel}/${mine.dataDir}/part.${v.parts[p].number}`));
    }
  });
  return out;
}

/** The lease of each chunk readBody's stream has lent out (see RecyclingBody in object-layer.ts). */
const leases = new WeakMap<Buffer, Lease>();

/** The pooled buffers of one batch, lent out as the chunks cut from them; back to the pool when all return. */
class Lease {
  private out = 0;
  private done = false;

  constructor(
    private readonly buffers: Buffer[],
    private readonly pool: BufferPool,
  ) {}

  lend(chunk: Buffer): void {
    if (this.buffers.length === 0) return;
    this.out++;
    leases.set(chunk, this);
  }

  allLent(): void {
    this.done = true;
    this.settle();
  }

  returned(): void {
    this.out--;
    this.settle();
  }

  private settle(): void {
    if (!this.done || this.out !== 0 || this.buffers.length === 0) return;
    for (const b of this.buffers.splice(0)) this.pool.give(b);
  }
}

/**
 * The body stream of a version (or a range of it). The first block is read before this resolves, so
 * an unreadable object fails here with an S3 error instead of after the response headers went out.
 */
export async function readBody(
  set: ErasureSet,
  bucket: string,
  key: string,
  o: Opened,
  range: ByteRange | undefined,
): Promise<Readable> {
  const v = o.version;
  const start = range?.start ?? 0;
  const end = range ? range.end + 1 : v.size; // exclusive
  // Old data is removed only once no GET reads it any more (a later part is opened when reached).
  const release = v.dataDir ? set.deps.reaper.hold(dataDirId(set.index, set.objRel(bucket, key), v.dataDir)) : () => {};
  async function* blocks(): AsyncGenerator<Buffer> {
    let partStart = 0;
    let healNeeded = false;
    let corrupt = false;
    try {
      for (let p = 0; p < v.parts.length && partStart < end; p++) {
        const size = v.parts[p].size;
        const partEnd = partStart + size;
        if (partEnd > start && size > 0) {
          const reader = new PartReader(
            set.deps.ctx.codec,
            v.ec!,
            size,
            partSources(set, bucket, key, o, p),
            set.deps.ctx.slowShardMs,
          );
          try {
            const bs = v.ec!.blockSize;
            const from = Math.max(start - partStart, 0);
            const to = Math.min(end - partStart, size); // exclusive, within the part
            const first = Math.floor(from / bs);
            const last = Math.floor((to - 1) / bs);
            // Batches of blocks, `readAhead` of them requested beyond the one being sent.
            const { readBatchBlocks: batch, readAheadBatches: ahead, pool, codec } = set.deps.ctx;
            const fullSpan = batch * codec.frameSize(bs, v.ec!.data);
            const queue: Promise<Batch>[] = [];
            let nextBlock = first;
            const request = () => {
              const n = Math.min(batch, last - nextBlock + 1);
              // Every batch reads into pooled buffers of one size (a full batch's): a short batch uses a prefix.
              const p = reader.readBlocks(nextBlock, n, (span) =>
                span <= fullSpan ? pool.take(fullSpan) : Buffer.allocUnsafe(span),
              );
              p.catch(() => {}); // surfaced when awaited
              queue.push(p);
              nextBlock += n;
            };
            let at = first * bs; // part offset of the next piece
            while (queue.length > 0 || nextBlock <= last) {
              while (nextBlock <= last && queue.length <= ahead) request();
              const { pieces, buffers } = await queue.shift()!;
              const lease = new Lease(buffers, pool);
              for (const piece of pieces) {
                const lo = Math.max(from - at, 0);
                const hi = Math.min(to - at, piece.length);
                at += piece.length;
                if (hi <= lo) continue;
                const out = lo === 0 && hi === piece.length ? piece : piece.subarray(lo, hi);
                lease.lend(out);
                yield out;
              }
              lease.allLent();
            }
          } finally {
            // Shards missing on drives that are up can be rebuilt; an offline drive waits for its return.
            for (const shard of reader.bad)
              if (set.writable[v.ec!.dist.indexOf(shard + 1)] && set.online[v.ec!.dist.indexOf(shard + 1)])
                healNeeded = true;
            if (reader.corrupt) corrupt = true;
            await reader.close();
          }
        }
        partStart = partEnd;
      }
    } finally {
      release();
      if (healNeeded) set.deps.queueHeal(set.index, bucket, key, corrupt);
    }
  }
  const it = blocks();
  const first = await it.next();
  async function* rest(): AsyncGenerator<Buffer> {
    if (first.done) return;
    yield first.value;
    yield* it;
  }
  const body: Readable & RecyclingBody = Object.assign(Readable.from(rest(), { objectMode: false, highWaterMark: 1 }), {
    recycle: (chunk: Buffer) => {
      const lease = leases.get(chunk);
      leases.delete(chunk); // a chunk given back twice counts once
      lease?.returned();
    },
  });
  // A consumer that stops early must still release the files the generator holds.
  body.once('close', () => void it.return(undefined).catch(() => {}));
  return body;
}
