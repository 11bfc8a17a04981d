// PUT into a set: cut the body into blocks, erasure-code each into the temp area of every drive (or keep it
// for the inline case), check size and the caller's verify(), then commit through ErasureSet.mutate.
import type { Readable } from 'node:stream';
import { S3Error } from '../../errors.js';
import type { ErasureInfo, VersionRecord } from '../meta/meta-file.js';
import { distinctMtime, lockRecord, newerFirst, newVersionId, toObjectInfo } from '../meta/versions.js';
import type { ObjectInfo, PutOptions, RecyclingBody, VersioningState } from '../object-layer.js';
import { ShardWriter } from '../erasure/shard-writer.js';
import type { ErasureSet } from './erasure-set.js';

const MAX_OBJECT = 5 * 1024 ** 4;
/** Pieces a block may be made of before they are copied together (socket reads are ~64 KiB: 17 a MiB). */
const MAX_PIECES = 256;

export interface StagedPart {
  size: number;
  md5: Buffer;
  checksum?: Buffer;
  /** Per slot: this drive's shard bytes when inline, else null (data is in the shard file). */
  inline: Buffer[] | null;
  /** Slots whose shard write succeeded. */
  ok: boolean[];
}

/** Erasure-code a body into `${tmpRel}/part.1`-like file `fileRel` on every live drive of the set. */
export async function stagePart(
  set: ErasureSet,
  ec: ErasureInfo,
  body: Readable,
  fileRel: string,
  opts: Pick<PutOptions, 'size' | 'checksumAlgorithm' | 'verify' | 'sealed'>,
  inlineLimit: number,
): Promise<StagedPart> {
  const { codec, blockSize, pool } = set.deps.ctx;
  const quorum = set.writeQuorum(ec.data, ec.parity);
  const writer = new ShardWriter(ec, set.writeDrives(), fileRel, inlineLimit);
  const failIfBelowQuorum = () => {
    if (writer.okCount() >= quorum) return;
    const full = writer.errors.filter((e) => e === 'ENOSPC' || e === 'EDQUOT').length;
    if (full > set.size - quorum) throw new S3Error('XMinioStorageFull');
    throw new S3Error(
      'InsufficientWriteQuorum',
      `only ${writer.okCount()} of ${set.size} drives can take the write, ${quorum} needed`,
    );
  };
  failIfBelowQuorum();
  // One native pass per block: ETag MD5, the requested checksum, Reed-Solomon, bitrot hashes.
  // Sealed bodies: the checksum and the ETag come from the plaintext (PutOptions.sealed), not the packages.
  // A body that takes its chunks back (the sealing stage's pooled batches, a GET's) gets each once it was
  // encoded; other bodies' chunks are never reused, so their MD5 may lag to be hashed with other uploads'.
  const recycle = (body as Partial<RecyclingBody>).recycle;
  const pass = codec.upload(opts.sealed ? null : (opts.checksumAlgorithm ?? null), !opts.sealed, !recycle);
  let owners: Buffer[] = []; // chunks whose last byte is in `held`
  let total = 0;
  // Body chunks are held until they make a whole block, which goes to the pass as those pieces: the pass
  // copies them once, straight into the frames (no copy on the event loop).
  let held: Buffer[] = [];
  let have = 0;
  const frameBytes = (len: number) => (ec.data + ec.parity) * codec.frameSize(len, ec.data);
  // Encoding of block n+1 overlaps the drive writes of block n (one write in flight at a time).
  let writing: Promise<void> = Promise.resolve();
  const send = async (pieces: Buffer[], length: number, done: Buffer[]) => {
    const pooled = length === blockSize;
    const out = pooled ? pool.take(frameBytes(blockSize)) : Buffer.allocUnsafe(frameBytes(length));
    const frames = await pass.encode(pieces, ec.data, ec.parity, out);
    for (const chunk of done) recycle?.(chunk);
    await writing;
    failIfBelowQuorum();
    writing = writer.writeFrames(frames).then((reusable) => {
      if (reusable && pooled) pool.give(out);
    });
    writing.catch(() => {});
  };
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > MAX_OBJECT || (opts.size >= 0 && total > opts.size)) {
        throw new S3Error(total > MAX_OBJECT ? 'EntityTooLarge' : 'IncompleteBody');
      }
      let c = chunk;
      while (have + c.length >= blockSize) {
        const take = blockSize - have;
        held.push(c.subarray(0, take));
        c = c.subarray(take);
        const pieces = held;
        held = [];
        have = 0;
        // The chunk is done with once this block is encoded if nothing of it is left over.
        const done = c.length === 0 ? [...owners, chunk] : owners;
        owners = [];
        await send(pieces, blockSize, done);
      }
      if (c.length > 0) {
        held.push(c);
        have += c.length;
        owners.push(chunk);
        // A body trickling in as tiny chunks is gathered, so a block never becomes thousands of pieces.
        if (held.length >= MAX_PIECES) {
          held = [Buffer.concat(held, have)];
          for (const o of owners.splice(0)) recycle?.(o);
        }
      }
    }
    if (have > 0) await send(held, have, owners);
    await writing;
    if (opts.size >= 0 && total !== opts.size) throw new S3Error('IncompleteBody');
    const inline = await writer.finish();
    failIfBelowQuorum();
    const finished = await pass.finish();
    const digest = opts.sealed ? Buffer.from(opts.sealed.digests().etag, 'hex') : finished.md5;
    const ck = finished.checksum;
    const checksum = opts.sealed ? opts.sealed.digests().checksum : (ck ?? undefined);
    await opts.verify?.({ md5: digest, checksum, size: total });
    return { size: total, md5: digest, checksum, inline, ok: writer.errors.map((e) => e === undefined) };
  } catch (e) {
    await writing.catch(() => {});
    pass.abort?.();
    await writer.abort();
    throw e;
  }
}

export async function putObjectInSet(
  set: ErasureSet,
  bucket: string,
  key: string,
  body: Readable,
  opts: PutOptions,
  versioning: VersioningState,
): Promise<ObjectInfo> {
  const storageClass = opts.storageClass ?? 'STANDARD';
  const ec = set.newErasure(key, storageClass);
  const tmp = set.newTemp();
  const dataDir = newVersionId();
  let inlined = false;
  try {
    const staged = await stagePart(set, ec, body, `${tmp}/${dataDir}/part.1`, opts, set.deps.ctx.inlineLimit);
    const now = opts.replica?.mtime.getTime() ?? Date.now();
    const etag = opts.sealed?.digests().etag ?? staged.md5.toString('hex');
    const version: VersionRecord = {
      id: opts.replica?.versionId ?? (versioning === 'Enabled' ? newVersionId() : 'null'),
      type: 'object',
      uid: newVersionId(),
      mtime: now,
      size: staged.size,
      etag,
      storageClass,
      contentHeaders: opts.contentHeaders ?? {},
      userMetadata: opts.userMetadata ?? {},
      ec,
      parts: [{ number: 1, size: staged.size, etag, mtime: now }],
    };
    if (opts.tagging) version.tagging = opts.tagging;
    if (opts.sealed) version.encryption = opts.sealed.encryption;
    if (opts.replicationStatus) version.replication = opts.replicationStatus;
    if (opts.replicationTargets) version.replicationTargets = opts.replicationTargets;
    const lock = lockRecord(opts.lock);
    if (lock) version.lock = lock;
    if (staged.checksum && opts.checksumAlgorithm) {
      version.checksum = {
        algorithm: opts.checksumAlgorithm,
        type: 'FULL_OBJECT',
        value: staged.checksum.toString('base64'),
      };
      version.parts[0].checksum = version.checksum;
    }
    if (!staged.inline) version.dataDir = dataDir;
    inlined = staged.inline !== null;
    await commitVersion(
      set,
      bucket,
      key,
      version,
      staged.inline ? staged.inline.map((b) => [b]) : null,
      staged.ok,
      tmp,
      opts.precondition,
      opts.replica === undefined,
    );
    return toObjectInfo(bucket, key, version, true);
  } finally {
    if (!inlined) await Promise.all(set.writeDrives().map((d) => d?.remove(tmp).catch(() => {})));
  }
}

/**
 * Make `version` the newest version of the key (replacing a previous version with the same id, e.g. the
 * null version). Its data is inline (`inline[slot]` = parts of that drive) or in `${tmp}/${dataDir}`.
 */
export async function commitVersion(
  set: ErasureSet,
  bucket: string,
  key: string,
  version: VersionRecord,
  inline: Buffer[][] | null,
  ok: boolean[],
  tmp: string,
  precondition?: PutOptions['precondition'],
  /** Moved on past the mtimes of the key's other versions (not for a replica, which keeps its source's). */
  ownMtime = true,
): Promise<void> {
  await set.mutate(bucket, key, {
    slots: ok,
    check: (resolved) => {
      if (ownMtime) version.mtime = distinctMtime(version.mtime, resolved.versions, version.id);
      if (!precondition) return;
      const latest = resolved.versions[0];
      precondition(latest && latest.type === 'object' ? toObjectInfo(bucket, key, latest, true) : null);
    },
    apply: (current, slot) => {
      const mine: VersionRecord = inline && slot >= 0 ? { ...version, inline: inline[slot] } : version;
      return [mine, ...current.filter((v) => v.id !== version.id)].sort(newerFirst);
    },
    stage: version.dataDir
      ? (d, _slot, objRel, fresh) => d.renameInto(`${tmp}/${version.dataDir}`, `${objRel}/${version.dataDir}`, fresh)
      : undefined,
    unstage: version.dataDir ? (d, _slot, objRel) => d.remove(`${objRel}/${version.dataDir}`) : undefined,
  });
}
