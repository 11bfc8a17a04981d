// GET/HEAD from a set: pick the version from the quorum of metadata, then stream the blocks of the range
// part by part. Only the blocks of the range are read; blocks are fetched one ahead of the consumer and
// the stream pulls (backpressure). Shards found missing or corrupt put the object on the heal queue.
import { Readable } from 'node:stream';
import { S3Error } from '../../errors.js';
import type { VersionRecord } from '../meta/meta-file.js';
import { versionKey, type DriveMeta, type Resolved, toObjectInfo } from '../meta/versions.js';
import type { ByteRange, ObjectInfo } from '../object-layer.js';
import { fileSource, inlineSource, PartReader, type ShardSource } from '../erasure/part-reader.js';
import type { ErasureSet } from './erasure-set.js';

export interface Opened {
  version: VersionRecord;
  info: ObjectInfo;
  metas: DriveMeta[];
  resolved: Resolved;
}

/**
 * The version a read names (or the latest). A delete marker is refused (NoSuchKey for the latest,
 * MethodNotAllowed when named by id) unless `markers` is set: HEAD reports it so the API can send the
 * x-amz-delete-marker headers S3 clients look for.
 */
export async function openVersion(set: ErasureSet, bucket: string, key: string, versionId?: string, markers = false): Promise<Opened> {
  const { metas, resolved } = await set.resolve(bucket, key);
  const latest = resolved.versions[0];
  let version: VersionRecord | undefined;
  if (versionId !== undefined) {
    version = resolved.versions.find((v) => v.id === versionId);
    if (!version) throw new S3Error(resolved.versions.length ? 'NoSuchVersion' : 'NoSuchKey');
    if (version.type === 'delete' && !markers) throw new S3Error('MethodNotAllowed');
  } else {
    version = latest;
    if (!version || (version.type === 'delete' && !markers)) throw new S3Error('NoSuchKey');
  }
  return { version, info: toObjectInfo(bucket, key, version, version === latest), metas, resolved };
}

/** Byte range of part `n` (1-based) inside the object. */
export function partRange(v: VersionRecord, n: number): ByteRange {
  if (!Number.isInteger(n) || n < 1 || n > v.parts.length) throw new S3Error('InvalidPart', 'The requested partnumber is not satisfiable');
  let start = 0;
  for (let i = 0; i < n - 1; i++) start += v.parts[i].size;
  return { start, end: start + v.parts[n - 1].size - 1 };
}

/** Shard sources of part index `p` of a version, indexed by shard index. */
export function partSources(set: ErasureSet, bucket: string, key: string, o: Opened, p: number, exclude?: Set<number>): (ShardSource | null)[] {
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

/**
 * The body stream of a version (or a range of it). The first block is read before this resolves, so
 * an unreadable object fails here with an S3 error instead of after the response headers went out.
 */
export async function readBody(set: ErasureSet, bucket: string, key: string, o: Opened, range: ByteRange | undefined): Promise<Readable> {
  const v = o.version;
  const start = range?.start ?? 0;
  const end = range ? range.end + 1 : v.size; // exclusive
  async function* blocks(): AsyncGenerator<Buffer> {
    let partStart = 0;
    let healNeeded = false;
    let corrupt = false;
    try {
      for (let p = 0; p < v.parts.length && partStart < end; p++) {
        const size = v.parts[p].size;
        const partEnd = partStart + size;
        if (partEnd > start && size > 0) {
          const reader = new PartReader(set.deps.ctx.codec, v.ec!, size, partSources(set, bucket, key, o, p), set.deps.ctx.slowShardMs);
          try {
            const bs = v.ec!.blockSize;
            const from = Math.max(start - partStart, 0);
            const to = Math.min(end - partStart, size); // exclusive, within the part
            const first = Math.floor(from / bs);
            const last = Math.floor((to - 1) / bs);
            let next: Promise<Buffer> | null = reader.readBlock(first);
            for (let b = first; b <= last; b++) {
              const block = await next!;
              next = b < last ? reader.readBlock(b + 1) : null;
              next?.catch(() => {}); // surfaced when awaited
              const lo = b === first ? from - b * bs : 0;
              const hi = b === last ? to - b * bs : block.length;
              yield block.subarray(lo, hi);
            }
          } finally {
            // Shards missing on drives that are up can be rebuilt; an offline drive waits for its return.
            for (const shard of reader.bad) if (set.writable[v.ec!.dist.indexOf(shard + 1)] && set.online[v.ec!.dist.indexOf(shard + 1)]) healNeeded = true;
            if (reader.corrupt) corrupt = true;
            await reader.close();
          }
        }
        partStart = partEnd;
      }
    } finally {
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
  const body = Readable.from(rest(), { objectMode: false, highWaterMark: 1 });
  // A consumer that stops early must still release the files the generator holds.
  body.once('close', () => void it.return(undefined).catch(() => {}));
  return body;
}
