// GET/HEAD from a set: pick the version from the quorum of metadata, then stream the blocks of the range
// part by part. Only the blocks of the range are read, in batches (one read per data shard, hashes checked
// in one native call, no copy when all data shards are good); batches are read ahead of the consumer and
// the stream pulls (backpressure). Shards found missing or corrupt put the object on the heal queue.
import { Readable } from 'node:stream';
import { S3Error } from '../../errors.js';
import type { VersionRecord } from '../meta/meta-file.js';
import { versionKey, type DriveMeta, type Resolved, toObjectInfo } from '../meta/versions.js';
import type { PiecePass } from '@cairn/native';
import type {
  ByteRange,
  DirectChunks,
  MutableChunks,
  ObjectInfo,
  PassedChunks,
  RecyclingBody,
} from '../object-layer.js';
import { FRAME_HASH_LENGTH, type Codec } from '../erasure/codec.js';
import { inlineSource, PartReader, type Batch, type ShardSource } from '../erasure/part-reader.js';
import { PartBatches } from './batches.js';
import { isMutable, markMutable, markPassed, passedBytes, recycleChunk, type SharedBatch } from './read-ahead.js';
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
  const { metas, resolved } = await set.resolveForRead(bucket, key);
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
  o: Pick<Opened, 'version' | 'metas' | 'resolved'>,
  p: number,
  exclude?: Set<number>,
): (ShardSource | null)[] {
  // Every GET builds these (twice when begun early): no per-slot key strings or sets, one path per data dir.
  const v = o.version;
  const ec = v.ec!;
  const holders = o.resolved.holders.get(versionKey(v)) ?? [];
  const out: (ShardSource | null)[] = new Array(ec.data + ec.parity).fill(null);
  const verify = set.deps.ctx.codec.readFrames;
  let dir = '';
  let rel = '';
  for (const slot of holders) {
    if (exclude?.has(slot)) continue;
    const mine = o.metas[slot].meta!.versions.find(
      (x) => x.id === v.id && x.mtime === v.mtime && x.type === v.type && x.uid === v.uid,
    )!;
    const shard = ec.dist[slot] - 1;
    if (mine.inline) {
      const b = mine.inline[p];
      out[shard] = b ? inlineSource(b) : null;
    } else if (mine.dataDir) {
      if (mine.dataDir !== dir) {
        dir = mine.dataDir;
        rel = `${set.objRel(bucket, key)}/${dir}/part.${v.parts[p].number}`;
      }
      out[shard] = set.drives[slot].openShard(rel, verify);
    }
  }
  return out;
}

/**
 * The body stream of a version (or a range of it). The first block is read before this resolves, so
 * an unreadable object fails here with an S3 error instead of after the response headers went out.
 *
 * Blocks are read in batches of `readBatchBlocks` aligned on a grid of that many blocks (so that the GETs
 * of one object ask for the same batches), `readAheadBatches` of them ahead of the one being sent; each
 * batch is first looked for in the read-ahead cache (another GET of these blocks is reading or just read
 * them) and registered there when read. The first and last block of a range read only the data shards
 * that hold bytes of it. A GET starting where the previous GET of this version ended reads ahead past its
 * own end (see read-ahead.ts).
 *
 * Without `verify` (ReadOptions.unverified: sealed data, authenticated by its reader) the data shards' bitrot
 * hashes are not checked on the fast path, saving the HighwayHash pass; a shard missing, slow or unreadable
 * still sends the batch down the verified block-by-block path. Such batches are shared only with readers that
 * also skip the check: a verified reader never gets bytes nobody checked.
 *
 * With `mutable` (ReadOptions.mutable: the reader opens sealed packages in place), a batch nobody else holds
 * is taken out of the read-ahead cache as it is sent and its chunks are marked the reader's to write into
 * (the body's `mutable`); a batch another GET holds stays shared, its chunks read-only.
 *
 * With `pass` (ReadOptions.pass), a batch this GET reads itself on the fast path runs the pass in its read's
 * pool task; when it ran (it was armed, every frame passed), the batch is sent as one chunk, its window's bytes
 * through the pass, which the body's `passed` names with the object bytes it stands for. Other batches (from the
 * cache, the block-by-block path, read before the pass was armed) are sent as read.
 */
export async function readBody(
  set: ErasureSet,
  bucket: string,
  key: string,
  o: Opened,
  range: ByteRange | undefined,
  verify = true,
  mutable = false,
  pass?: PiecePass,
): Promise<Readable> {
  const it = bodyChunks(set, bucket, key, o, range, verify, mutable, pass);
  const first = await it.next();
  async function* rest(): AsyncGenerator<Buffer> {
    if (first.done) return;
    yield first.value;
    yield* it;
  }
  const chunks = rest();
  const stream = Readable.from(chunks, { objectMode: false, highWaterMark: 1 });
  // In-process readers take the generator itself (DirectChunks) while nothing has read the stream.
  const direct = () => (stream.readableDidRead || stream.readableFlowing !== null ? undefined : chunks);
  const body: Readable & RecyclingBody & MutableChunks & DirectChunks & PassedChunks = Object.assign(stream, {
    recycle: recycleChunk,
    mutable: isMutable,
    chunks: direct,
    passed: passedBytes,
  });
  // A consumer that stops early must still release the files the generator holds.
  body.once('close', () => void it.return(undefined).catch(() => {}));
  return body;
}

/**
 * The whole of a version kept in its metadata (inline: a small object) in one buffer, read and checked as
 * readBody reads it (bad or missing shards decoded around and queued for healing). A small GET answers with
 * it: a stream per 4 KiB GET (Readable.from over the generator, its events, a write per chunk) cost more
 * than the read.
 */
export async function readInline(set: ErasureSet, bucket: string, key: string, o: Opened): Promise<Buffer> {
  if (o.version.dataDir) throw new Error('readInline: the version has its data in files');
  const whole = await inlineWhole(set, o);
  if (whole) return whole;
  const parts: Buffer[] = [];
  for await (const chunk of bodyChunks(set, bucket, key, o, undefined, true)) parts.push(chunk);
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/**
 * readInline's common case without the batch machinery (a generator, a PartReader, a slow-shard timer per
 * GET: more CPU than the bytes): a one-part, one-block version whose every shard, parity too, is in the
 * metadata of the drive meant to hold it. The data shards' hashes are checked in one call and their bytes
 * joined. Anything else (a copy missing or failing its hash: to be healed; several parts or blocks) gives
 * null, and the general path reads around it and queues the heal, as read() does.
 */
async function inlineWhole(set: ErasureSet, o: Opened): Promise<Buffer | null> {
  const v = o.version;
  const ec = v.ec;
  if (!ec || v.parts.length !== 1 || v.size === 0 || v.size > ec.blockSize) return null;
  const id = versionKey(v);
  const holders = o.resolved.holders.get(id);
  if (!holders || holders.length !== ec.data + ec.parity) return null;
  const codec = set.deps.ctx.codec;
  const frameSize = codec.frameSize(v.size, ec.data);
  const frames: Buffer[] = new Array(ec.data);
  for (const slot of holders) {
    const frame = o.metas[slot].meta?.versions.find((x) => versionKey(x) === id)?.inline?.[0];
    if (!frame || frame.length !== frameSize) return null;
    const shard = ec.dist[slot] - 1;
    if (shard < ec.data) frames[shard] = frame;
  }
  if ((await codec.verifyFrames(frames)).length > 0) return null;
  const shardSize = codec.shardSize(v.size, ec.data);
  const pieces: Buffer[] = [];
  for (let i = 0; i < ec.data; i++) {
    const bytes = Math.min((i + 1) * shardSize, v.size) - Math.min(i * shardSize, v.size);
    if (bytes > 0) pieces.push(frames[i].subarray(FRAME_HASH_LENGTH, FRAME_HASH_LENGTH + bytes));
  }
  return pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, v.size);
}

/** Shards `reader` found missing or bad on drives that are up: those can be rebuilt (an offline drive waits). */
function healable(set: ErasureSet, v: VersionRecord, reader: PartReader): boolean {
  for (const shard of reader.bad) {
    const slot = v.ec!.dist.indexOf(shard + 1);
    if (set.writable[slot] && set.online[slot]) return true;
  }
  return false;
}

/** The identity of a version in the read-ahead cache (undefined: not shared), as bodyChunks names it. */
function cacheId(set: ErasureSet, bucket: string, key: string, v: VersionRecord, verify: boolean): string | undefined {
  return v.dataDir && set.deps.ctx.readAhead
    ? `${set.index}\0${set.objRel(bucket, key)}\0${versionKey(v)}${verify ? '' : '\0unverified'}`
    : undefined;
}

/**
 * A Range header's bytes in an object of `size` bytes as the API reads it (api/object-headers.ts parseRange:
 * one range, clamped to the object), or undefined where that answers an error or the whole object.
 */
function rangeOf(header: string, size: number): ByteRange | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    return n > 0 ? { start: Math.max(0, size - n), end: size - 1 } : undefined;
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  return start < size && end >= start ? { start, end } : undefined;
}

/**
 * Begins reading the first batch of a GET (`range`: its Range header; undefined: the whole object) from the
 * metadata the object's last read found (ErasureSet.lastRead), in the same pool task as the GET's own metadata
 * checks (the set's readGroup queue): one pool trip before the first byte where there were two, so the event
 * loop sleeps and wakes once for both, not twice (each wake-up waits ~1-2 ms for a core on a loaded machine;
 * bench/readers/README.md). A reader that asks for one range at a time, as DuckDB does, waits for each. The batch goes
 * into the read-ahead cache under the hinted version's identity: the GET takes it there only if its own
 * metadata read chose that same version (an object overwritten since reads the new version's blocks, and
 * the early batch expires unused). Nothing is begun without a hint, for a version without data files or
 * with encrypted data, or for a range the API would refuse.
 */
export function readEarly(
  set: ErasureSet,
  bucket: string,
  key: string,
  versionId: string | undefined,
  range?: string,
): void {
  const ctx = set.deps.ctx;
  const hint = ctx.readAhead ? set.lastRead(bucket, key) : undefined;
  if (!hint) return;
  const v =
    versionId === undefined ? hint.resolved.versions[0] : hint.resolved.versions.find((x) => x.id === versionId);
  if (!v?.dataDir || !v.ec || v.tier || v.encryption || v.size === 0) return;
  const r = range === undefined ? { start: 0, end: v.size - 1 } : rangeOf(range, v.size);
  if (!r) return;
  let partStart = 0;
  let p = 0;
  while (partStart + v.parts[p].size <= r.start) partStart += v.parts[p++].size;
  const size = v.parts[p].size;
  const release = set.deps.reaper.hold(dataDirId(set.index, set.objRel(bucket, key), v.dataDir));
  // The batch's data shards are read in the pool task of the set's metadata checks (Drive.readGroup), which
  // this GET's openVersion asks for in this same turn: one pool trip and one wake-up before the first byte.
  const group = set.drives[0]?.readGroup;
  let rode = false;
  const queued = ctx.codec.readManyFramesQueued;
  const codec: Codec =
    group && queued
      ? {
          ...ctx.codec,
          readManyFrames: (paths, positions, stride, outs, verify) => {
            // The first has no task of its own (PartReader counted one): it rides the metadata's; the second
            // batch's is a task of its own.
            if (!rode) ctx.readStats.readTasks--;
            rode = true;
            return queued(group, paths, positions, stride, outs, verify);
          },
        }
      : ctx.codec;
  const reader = new PartReader(
    codec,
    v.ec,
    size,
    partSources(set, bucket, key, { version: v, ...hint }, p),
    ctx.slowShardMs,
    ctx.readStats,
    true,
  );
  const bs = v.ec.blockSize;
  const from = r.start - partStart;
  const to = Math.min(r.end + 1 - partStart, size);
  const batches = new PartBatches(reader, ctx, cacheId(set, bucket, key, v, true), p, bs, v.ec.data);
  // As bodyChunks asks for its first batch and the one after it (its read-ahead): the same blocks and windows, so
  // the GET finds them. The second is read in a pool task of its own, beside the first.
  const last = Math.floor((to - 1) / bs);
  const shared = [batches.at(Math.floor(from / bs), last, from, to, true)];
  const next = Math.min(shared[0].to, to);
  if (next < to && ctx.readAheadBatches > 0) shared.push(batches.at(Math.floor(next / bs), last, next, to));
  ctx.readStats.earlyReads++;
  const done = () => {
    for (const b of shared) b.lease.release();
    if (healable(set, v, reader)) set.deps.queueHeal(set.index, bucket, key, reader.corrupt);
    void reader.close().finally(release);
  };
  void Promise.allSettled(shared.map((b) => b.batch)).then(done);
}

/** The bytes of a version's range, batch by batch (see readBody). */
function bodyChunks(
  set: ErasureSet,
  bucket: string,
  key: string,
  o: Opened,
  range: ByteRange | undefined,
  verify: boolean,
  mutable = false,
  pass?: PiecePass,
): AsyncGenerator<Buffer> {
  const v = o.version;
  const start = range?.start ?? 0;
  const end = range ? range.end + 1 : v.size; // exclusive
  const ctx = set.deps.ctx;
  const { readAheadBatches: ahead, readAhead } = ctx;
  // Old data is removed only once no GET reads it any more (a later part is opened when reached).
  const release = v.dataDir ? set.deps.reaper.hold(dataDirId(set.index, set.objRel(bucket, key), v.dataDir)) : () => {};
  // Inline objects live in the metadata: nothing to share or read ahead.
  const versionId = cacheId(set, bucket, key, v, verify);
  const sequential = versionId !== undefined && readAhead!.sequential(versionId, start, end);
  let prefetched = false;
  async function* blocks(): AsyncGenerator<Buffer> {
    let partStart = 0;
    let healNeeded = false;
    let corrupt = false;
    // Batches this GET holds (asked for, not yet sent), each with the part bytes [from, to) it sends of it.
    const queue: { shared: SharedBatch; from: number; to: number }[] = [];
    try {
      for (let p = 0; p < v.parts.length && partStart < end; p++) {
        const size = v.parts[p].size;
        const partEnd = partStart + size;
        if (partEnd > start && size > 0) {
          const reader = new PartReader(
            ctx.codec,
            v.ec!,
            size,
            partSources(set, bucket, key, o, p),
            ctx.slowShardMs,
            ctx.readStats,
            verify,
          );
          try {
            const bs = v.ec!.blockSize;
            const from = Math.max(start - partStart, 0);
            const to = Math.min(end - partStart, size); // exclusive, within the part
            const last = Math.floor((to - 1) / bs);
            const batches = new PartBatches(reader, ctx, versionId, p, bs, v.ec!.data, pass);
            // Batches are asked for from the part byte where the last one ended: a batch another GET read
            // may start before that byte or end inside a block (its window), so each is sent from where the
            // one before stopped to where its own window ends, never a byte twice or a byte missed.
            let pos = from;
            while (queue.length > 0 || pos < to) {
              while (pos < to && queue.length <= ahead) {
                const b = batches.at(Math.floor(pos / bs), last, pos, to, pos === from && partStart <= start);
                queue.push({ shared: b, from: pos, to: Math.min(b.to, to) });
                pos = Math.min(b.to, to);
              }
              // A sequential reader's next GET: as many bytes as this one (bounded), within the part.
              if (pos >= to && sequential && !prefetched) {
                prefetched = true;
                batches.prefetch(to, Math.min(size, to + Math.min(end - start, readAhead!.prefetchMaxBytes)));
              }
              const { shared, from: lo, to: hi } = queue[0];
              let got: Batch;
              try {
                got = await shared.batch;
              } catch (e) {
                const again = batches.again(shared);
                if (!again) throw e;
                queue[0] = { shared: again, from: lo, to: hi };
                shared.lease.release();
                continue;
              }
              const passed = got.passed;
              if (pass && passed?.pass === pass && passed.from === lo && passed.to === hi) {
                // Read by this GET with its pass: the window's bytes through it, in one chunk of its own.
                markPassed(passed.bytes, hi - lo);
                yield passed.bytes;
                queue.shift();
                shared.lease.release();
                continue;
              }
              const mine = mutable && batches.claim(shared, got);
              let at = got.start;
              for (const piece of got.pieces) {
                const a = Math.max(lo - at, 0);
                const z = Math.min(hi - at, piece.length);
                at += piece.length;
                if (z <= a) continue;
                // A view of its own per GET: the chunk -> lease map tells one reader's chunk from another's.
                const out = piece.subarray(a, z);
                if (got.buffers.length > 0) shared.lease.lend(out);
                if (mine) markMutable(out);
                yield out;
              }
              queue.shift(); // held (in `queue`) until sent: a GET stopped while sending it lets go of it too
              shared.lease.release();
            }
          } finally {
            if (healable(set, v, reader)) healNeeded = true;
            if (reader.corrupt) corrupt = true;
            await reader.close();
          }
        }
        partStart = partEnd;
      }
    } finally {
      // A GET that stops early lets go of the batches it asked for: their buffers return once read.
      for (const b of queue.splice(0)) b.shared.lease.release();
      release();
      if (healNeeded) set.deps.queueHeal(set.index, bucket, key, corrupt);
    }
  }

  return blocks();
}
