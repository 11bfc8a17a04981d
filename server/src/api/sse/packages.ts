// The sealing stage in front of storage's PUT and the opening stage after its GET reader: plaintext <->
// native AEAD packages (64 KiB + 16-byte tag; native/src/aead.rs), up to 16 packages (1 MiB) per native call.
// Storage only ever sees sealed bytes; ranges are widened to whole packages on the way in and cut back on the
// way out.
//
// The byte path is lean: on PUT the kernel reads the body as the socket delivered it and copies each package
// once, into a pooled output batch, where it is sealed in place. On GET, storage's pooled chunks that are
// this GET's alone (ReadOptions.mutable) are opened where they lie, the plaintext moved to their front in the
// same pass (aeadOpenInPlace: only a package straddling two chunks is copied), and go to the socket as views;
// chunks shared with other GETs are copied into pooled batches and opened there. Outputs come back when their
// reader is done with them (storage after encoding a block, the socket after writing a GET's chunk:
// RecyclingBody). Fresh megabyte buffers per call cost page faults and V8's external-memory GC, which was
// most of the cost of encryption end to end (bench/load).
import { randomFillSync } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AEAD_PACKAGE_SIZE as PACKAGE,
  AEAD_SEALED_PACKAGE as SEALED,
  AEAD_TAG_SIZE as TAG,
  aeadOpen,
  aeadOpenAsync,
  aeadOpenInPlaceAsync,
  aeadOpenMessage,
  aeadSeal,
  aeadSealAsync,
  aeadSealMessage,
  aeadSealedLength,
  Hasher,
  type Md5Lanes,
  md5State,
  md5StateDigest,
  md5Update,
  md5UpdateAsync,
  type Cipher,
} from '@cairn/native';
import { S3Error } from '../../errors.js';
import type { BufferPool } from '../../storage/erasure/buffer-pool.js';
import type { ByteRange, ChecksumAlgorithm, ObjectBody, RecyclingBody } from '../../storage/object-layer.js';

/**
 * The sealed bytes [start, end] (offsets in the sealed stream) read again with storage's bitrot check: a
 * batch read unverified whose tag failed. Storage finds the bad shard, reads around it and queues its heal.
 */
export type Reread = (start: number, end: number) => Promise<Buffer>;

/** The whole of a (short) storage body in one buffer, its pooled chunks given back. */
export async function readWhole(body: ObjectBody): Promise<Buffer> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  } finally {
    for (const chunk of chunks) body.recycle?.(chunk);
    body.destroy();
  }
}

/** Packages per native call: 1 MiB of plaintext, storage's block size. */
const BATCH = 16;
const BATCH_PLAIN = BATCH * PACKAGE;
const BATCH_SEALED = BATCH * SEALED;
/**
 * Batches of at most one package run on the event loop: a libuv pool round trip costs more main-thread CPU
 * (task, wake-up, promise: 10-50 us measured under load) than sealing or opening 64 KiB (~12 us of AES-GCM at
 * 5.7 GB/s, 1-2 us for a 4 KiB object), and one package bounds how long a sync call holds the loop.
 */
export const SYNC_SEAL_BYTES = SEALED;

/** Where the stages get their buffers and MD5s (one per process; absent in unit tests: fresh buffers). */
export interface SealTools {
  /** Output buffers of whole batches, given back by the readers of the stages' output. */
  buffers?: BufferPool;
  /** The plaintext MD5s of concurrent uploads, hashed together in SIMD lanes. */
  md5Lanes?: Md5Lanes;
}

/**
 * The output buffers of one stage: whole batches from the pool (small outputs are fresh), lent out as views;
 * a view given back (`recycle`, once) returns its buffer to the pool.
 */
export class Lender {
  private readonly pooled = new WeakSet<Buffer>();
  /** What to do when each view out comes back. */
  private readonly lent = new Map<Buffer, () => void>();
  constructor(private readonly pool: BufferPool | undefined) {}

  /** A buffer of at least `size` bytes: a pooled one of `batch` bytes, or (small, or no pool) a fresh one. */
  take(size: number, batch: number): Buffer {
    if (!this.pool || size <= SYNC_SEAL_BYTES || size > batch) return Buffer.allocUnsafe(size);
    const buf = this.pool.take(batch);
    this.pooled.add(buf);
    return buf;
  }

  /** `view` of `buf` goes out. */
  lend(view: Buffer, buf: Buffer): Buffer {
    if (this.pooled.has(buf)) this.lent.set(view, () => this.pool!.give(buf));
    return view;
  }

  /** `view` (of a buffer someone else lent: storage's) goes out; `back` runs when it comes back. */
  lendWith(view: Buffer, back: () => void): Buffer {
    this.lent.set(view, back);
    return view;
  }

  /** `buf` was not lent out after all. */
  give(buf: Buffer): void {
    if (this.pooled.has(buf)) this.pool!.give(buf);
  }

  /** A sealed package's room (aeadOpenInPlace's scratch), from the pool when there is one. */
  takeScratch(): Buffer {
    return this.pool ? this.pool.take(SEALED) : Buffer.allocUnsafe(SEALED);
  }

  giveScratch(buf: Buffer): void {
    this.pool?.give(buf);
  }

  readonly recycle = (view: Buffer): void => {
    const back = this.lent.get(view);
    if (!back) return;
    this.lent.delete(view);
    back();
  };
}

/** One sealed stream: its data key, cipher and identity (object id + part number). */
export interface StreamKeys {
  cipher: Cipher;
  key: Buffer;
  identity: Buffer;
}

export function streamIdentity(objectId: Buffer, partNumber: number): Buffer {
  const id = Buffer.alloc(objectId.length + 4);
  objectId.copy(id);
  id.writeUInt32BE(partNumber, objectId.length);
  return id;
}

const KEY_SEAL_AAD = Buffer.from('cairn data key v1:');
const IV = 12;

// Data keys are sealed as one AES-256-GCM message (the addon's: a fifth of node:crypto's cost per call, which
// every SSE PUT and every key-cache miss on GET pays); the bytes are node:crypto's, as stored before.

/** The data key sealed by a key-encryption key (customer key or KMS key): iv || ciphertext || tag. */
export function sealDataKey(kek: Buffer, dataKey: Buffer, objectId: Buffer): Buffer {
  const out = Buffer.allocUnsafe(IV + dataKey.length + TAG);
  randomFillSync(out, 0, IV);
  const aad = Buffer.concat([KEY_SEAL_AAD, objectId]);
  aeadSealMessage('AES-256-GCM', kek, out.subarray(0, IV), aad, dataKey, out.subarray(IV));
  return out;
}

/** The data key, or undefined when `kek` is not the key that sealed it. */
export function unsealDataKey(kek: Buffer, sealed: Buffer, objectId: Buffer): Buffer | undefined {
  if (sealed.length !== IV + 32 + TAG || kek.length !== 32) return undefined;
  const key = Buffer.alloc(32);
  const aad = Buffer.concat([KEY_SEAL_AAD, objectId]);
  // Not authentic: the addon zeroes what it opened, so no half-key is left around.
  return aeadOpenMessage('AES-256-GCM', kek, sealed.subarray(0, IV), aad, sealed.subarray(IV), key) ? key : undefined;
}

export interface PlainDigests {
  md5: Buffer;
  checksum?: Buffer;
  size: number;
}

/** The plaintext MD5 of one upload: in the process's lanes when there are, else a call of its own. */
function md5Of(lanes: Md5Lanes | undefined): {
  update(pieces: Buffer[], bytes: number): Promise<void>;
  digest(): Buffer;
} {
  const state = md5State();
  return {
    update: async (pieces, bytes) => {
      if (bytes <= SYNC_SEAL_BYTES) md5Update([state], pieces, [pieces.length]);
      else if (lanes) await lanes.update(state, pieces);
      else await md5UpdateAsync([state], pieces, [pieces.length]);
    },
    digest: () => md5StateDigest(state),
  };
}

/**
 * `body` sealed as one stream. The plaintext's MD5 (the ETag, Content-MD5) and checksum are computed on the
 * way, on the pool beside the sealing; `digests()` is complete once the sealed stream has ended. The sealed
 * stream's chunks are pooled batches: its reader gives each back (`recycle`) once it no longer needs it.
 */
export function sealBody(
  body: Readable,
  keys: StreamKeys,
  checksumAlgorithm: ChecksumAlgorithm | undefined,
  tools: SealTools = {},
): { sealed: Readable & RecyclingBody; digests(): PlainDigests } {
  const md5 = md5Of(tools.md5Lanes);
  const checksum = checksumAlgorithm ? new Hasher(checksumAlgorithm) : undefined;
  const lender = new Lender(tools.buffers);
  const batchOut = aeadSealedLength(BATCH_PLAIN);
  let size = 0;
  let seq = 0;
  const updateChecksum = async (pieces: Buffer[]) => {
    if (!checksum) return;
    for (const p of pieces) await checksum.updateAsync(p);
  };
  /** Seals `pieces` (`bytes` of plaintext: whole packages, unless `last`). */
  const seal = async (pieces: Buffer[], bytes: number, last: boolean): Promise<Buffer> => {
    const sealedBytes = aeadSealedLength(bytes);
    const out = lender.take(sealedBytes, batchOut);
    if (bytes <= SYNC_SEAL_BYTES) {
      aeadSeal(keys.cipher, keys.key, keys.identity, seq, pieces, last, out);
      for (const p of pieces) checksum?.update(p);
      await md5.update(pieces, bytes);
    } else {
      await Promise.all([
        aeadSealAsync(keys.cipher, keys.key, keys.identity, seq, pieces, last, out),
        md5.update(pieces, bytes),
        updateChecksum(pieces),
      ]);
    }
    seq += Math.max(1, Math.ceil(bytes / PACKAGE));
    return lender.lend(out.subarray(0, sealedBytes), out);
  };
  // A body whose chunks are lent (a copy's source: storage's chunks, or views of them) gets each back once
  // its last byte is sealed.
  const recycle = (body as Partial<RecyclingBody>).recycle?.bind(body);
  async function* packages(): AsyncGenerator<Buffer> {
    // The body's chunks as they came, until a batch is complete: the kernel copies them once, into `out`.
    let held: Buffer[] = [];
    let have = 0;
    /** Chunks whose last bytes are in `held`. */
    let ending: Buffer[] = [];
    const sealHeld = async (bytes: number, last: boolean): Promise<Buffer> => {
      const [pieces, done] = [held, ending];
      held = [];
      ending = [];
      have = 0;
      const out = await seal(pieces, bytes, last);
      for (const chunk of done) recycle?.(chunk);
      return out;
    };
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      let c = chunk;
      // A full batch is sealed once more bytes follow: the last one must carry the final flag.
      while (have + c.length > BATCH_PLAIN) {
        const take = BATCH_PLAIN - have;
        held.push(c.subarray(0, take));
        have = BATCH_PLAIN;
        c = c.subarray(take);
        yield await sealHeld(BATCH_PLAIN, false);
      }
      if (c.length > 0) {
        held.push(c);
        have += c.length;
        ending.push(chunk);
      }
    }
    yield await sealHeld(have, true);
  }
  const sealed = Object.assign(Readable.from(packages(), { objectMode: false, highWaterMark: 1 }), {
    recycle: lender.recycle,
  });
  return {
    sealed,
    digests: () => ({ md5: md5.digest(), checksum: checksum?.digest(), size }),
  };
}

/** What to read of a sealed stream for a plaintext range, and how to cut the opened bytes back. */
export interface SealedSpan {
  /** The range of sealed bytes holding the packages that cover the plaintext range. */
  sealed: ByteRange;
  firstSeq: number;
  /** The span ends with the stream's final package. */
  endsStream: boolean;
  /** Plaintext bytes to drop before the range starts, and the range's length. */
  skip: number;
  length: number;
}

/** The packages covering `range` (inclusive) of a stream of `plainSize` plaintext bytes. */
export function sealedSpan(range: ByteRange | undefined, plainSize: number): SealedSpan {
  const start = range?.start ?? 0;
  const end = range ? range.end : plainSize - 1; // -1 for an empty stream
  const lastSeq = Math.max(0, Math.ceil(plainSize / PACKAGE) - 1);
  const firstSeq = Math.floor(start / PACKAGE);
  const endSeq = end < 0 ? 0 : Math.floor(end / PACKAGE);
  const sealedEnd = Math.min((endSeq + 1) * SEALED, aeadSealedLength(plainSize)) - 1;
  return {
    sealed: { start: firstSeq * SEALED, end: sealedEnd },
    firstSeq,
    endsStream: endSeq === lastSeq,
    skip: start - firstSeq * PACKAGE,
    length: Math.max(0, end - start + 1),
  };
}

/**
 * The plaintext of `span` from the sealed bytes `sealed` (storage's GET body of span.sealed). The first
 * batch is opened before this resolves, so data that fails authentication is an S3 error, not a cut
 * response. With `reread` (the sealed bytes came unverified by storage's bitrot check), a batch whose tag
 * fails is read again verified and opened once more: bitrot on a drive still gives the right plaintext (and
 * a heal), tampering on every drive still fails.
 *
 * A batch whose chunks are this reader's alone (the body's `mutable`: storage read them for this GET and
 * shares them with no other) is opened where it lies (aeadOpenInPlace): its plaintext chunks are views of
 * storage's chunks, and a storage chunk goes back (`sealed.recycle`) once every view of it came back through
 * `lender.recycle`; only packages that straddle two chunks are copied. Other batches (shared with other
 * GETs through the read-ahead cache, or from stores that do not say) are copied into `lender`'s buffers and
 * opened there, storage's chunks given back at once.
 */
export async function openBody(
  sealed: ObjectBody,
  keys: StreamKeys,
  span: SealedSpan,
  lender: Lender = new Lender(undefined),
  reread?: Reread,
): Promise<Readable> {
  let seq = span.firstSeq;
  let skip = span.skip;
  let left = span.length;
  /** Storage's chunks (or what is left of one) not opened yet, in order. */
  const pending: { bytes: Buffer; chunk: Buffer }[] = [];
  let have = 0;
  /** Holds on each storage chunk: 1 while in `pending`, 1 per plaintext view of it out. */
  const holds = new Map<Buffer, number>();
  const letGo = (chunk: Buffer) => {
    const n = holds.get(chunk)! - 1;
    if (n > 0) holds.set(chunk, n);
    else {
      holds.delete(chunk);
      sealed.recycle?.(chunk);
    }
  };
  let scratch: Buffer | undefined;
  /** The batch's plaintext bytes [0, n) that belong to the range: [from, to). */
  const cut = (n: number): { from: number; to: number } => {
    const from = Math.min(skip, n);
    const to = Math.min(n, from + left);
    skip -= from;
    left -= to - from;
    return { from, to };
  };
  /** The range's part of a batch opened in place: views of `pieces` (of storage chunks `owners`). */
  const views = (pieces: Buffer[], owners: Buffer[], n: number): Buffer[] => {
    const { from, to } = cut(n);
    const out: Buffer[] = [];
    let at = 0;
    pieces.forEach((piece, i) => {
      const a = Math.max(from - at, 0);
      const z = Math.min(to - at, piece.length);
      at += piece.length;
      if (z <= a) return;
      holds.set(owners[i], holds.get(owners[i])! + 1);
      out.push(lender.lendWith(piece.subarray(a, z), () => letGo(owners[i])));
    });
    return out;
  };
  /** Opens the first `bytes` sealed bytes of `pending` (whole packages unless `ends`); the range's part of them. */
  const open = async (bytes: number, ends: boolean): Promise<Buffer[]> => {
    const pieces: Buffer[] = [];
    const owners: Buffer[] = [];
    const done: Buffer[] = [];
    for (let need = bytes; need > 0; ) {
      const p = pending[0];
      owners.push(p.chunk);
      if (p.bytes.length <= need) {
        pieces.push(p.bytes);
        done.push(p.chunk);
        pending.shift();
        need -= p.bytes.length;
      } else {
        pieces.push(p.bytes.subarray(0, need));
        p.bytes = p.bytes.subarray(need);
        need = 0;
      }
    }
    have -= bytes;
    const packages = Math.ceil(bytes / SEALED);
    const mutable = sealed.mutable;
    if (bytes > SYNC_SEAL_BYTES && mutable && owners.every((c) => mutable(c))) {
      scratch ??= lender.takeScratch();
      const n = await aeadOpenInPlaceAsync(keys.cipher, keys.key, keys.identity, seq, pieces, ends, scratch).catch(
        () => undefined,
      );
      if (n !== undefined) {
        seq += packages;
        const out = views(pieces, owners, n);
        for (const chunk of done) letGo(chunk);
        return out;
      }
      // The sealed bytes are gone (zeroed): only a verified read again can help.
      for (const chunk of done) letGo(chunk);
      if (!reread) throw new S3Error('XMinioObjectTampered');
      return opened(bytes, ends, [await reread(seq * SEALED, seq * SEALED + bytes - 1)], undefined);
    }
    return opened(bytes, ends, pieces, done);
  };
  /**
   * Opens `from` (`bytes` sealed bytes) into a buffer of `lender`'s; storage's `done` chunks go back once
   * read. A tag that fails is read again verified (`reread`), once.
   */
  const opened = async (
    bytes: number,
    ends: boolean,
    from: Buffer[],
    done: Buffer[] | undefined,
  ): Promise<Buffer[]> => {
    const out = lender.take(bytes - Math.ceil(bytes / SEALED) * TAG, BATCH_PLAIN);
    /** The plaintext bytes opened into `out`, or undefined when a tag failed. */
    const tryOpen = async (pieces: Buffer[]): Promise<number | undefined> => {
      try {
        return bytes <= SYNC_SEAL_BYTES
          ? aeadOpen(keys.cipher, keys.key, keys.identity, seq, pieces, ends, out)
          : await aeadOpenAsync(keys.cipher, keys.key, keys.identity, seq, pieces, ends, out);
      } catch {
        return undefined;
      }
    };
    let n = await tryOpen(from);
    for (const chunk of done ?? []) letGo(chunk);
    if (n === undefined && reread && done) {
      const again = await reread(seq * SEALED, seq * SEALED + bytes - 1).catch((e: unknown) => {
        lender.give(out);
        throw e;
      });
      n = await tryOpen([again]);
    }
    if (n === undefined) {
      lender.give(out);
      throw new S3Error('XMinioObjectTampered');
    }
    seq += Math.ceil(bytes / SEALED);
    const { from: a, to: z } = cut(n);
    if (z === a) {
      lender.give(out);
      return [];
    }
    return [lender.lend(out.subarray(a, z), out)];
  };
  async function* plaintext(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of sealed as AsyncIterable<Buffer>) {
        pending.push({ bytes: chunk, chunk });
        holds.set(chunk, 1);
        have += chunk.length;
        // A full batch is opened once more bytes follow: the span's last one may end the stream.
        while (have > BATCH_SEALED) yield* await open(BATCH_SEALED, false);
      }
      // The rest: at most a batch, and at least one package (none read means the data was cut short).
      yield* await open(have, span.endsStream);
      if (left !== 0) throw new S3Error('XMinioObjectTampered');
    } finally {
      // Here no open is under way (a generator is ended only where it yields): the scratch is free.
      if (scratch) lender.giveScratch(scratch);
    }
  }
  const it = plaintext();
  const first = await it.next();
  async function* rest(): AsyncGenerator<Buffer> {
    if (first.done) return;
    yield first.value;
    yield* it;
  }
  const body = Readable.from(rest(), { objectMode: false, highWaterMark: 1 });
  body.once('close', () => {
    void it.return(undefined).catch(() => {});
    sealed.destroy();
  });
  return body;
}
