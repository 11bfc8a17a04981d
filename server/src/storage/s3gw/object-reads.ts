// The S3 gateway's reads of objects: HEAD, and GET of a whole object or of one range, each one backend request
// (the tags only when the answer counts some), and the later reads of an opened object's bytes (If-Match on the
// ETag it was opened with; a Parquet footer's tail kept in memory: tail-cache.ts). s3gw-objects.ts hands
// GetObject and HeadObject of the backend's buckets here.
import type { Readable } from 'node:stream';
import { Readable as ReadableStream } from 'node:stream';
import { S3Error } from '../../errors.js';
import type * as L from '../object-layer.js';
import { backendError, type Sdk } from './backend.js';
import { CHECKSUM_ALGORITHMS, infoFromHead, infoFromHeaders, quote, tagString, unquote } from './convert.js';
import type { RawGetter } from './raw-get.js';
import { TailCache } from './tail-cache.js';
import { type BackendVersioning, deleteMarkerInfo } from './versioning.js';

/** A Range header of one range, as the backend is asked for it (others: a HEAD first, the API layer decides). */
const ONE_RANGE = /^bytes=(\d+-\d*|-\d+)$/;

/** Pages of 1000 parts read for a multipart object's part list: S3 allows 10,000 parts. */
const PART_PAGES = 10;

const changed = () => new S3Error('ServiceUnavailable', 'The object changed while it was being read; please retry.');

/** A backend's GetObjectAttributes answer, the fields read here. */
interface AttributesOut {
  ETag?: string;
  ObjectParts?: {
    IsTruncated?: boolean;
    NextPartNumberMarker?: string;
    Parts?: ({ PartNumber?: number; Size?: number } & Partial<Record<`Checksum${L.ChecksumAlgorithm}`, string>>)[];
  };
}

/** The headers of a failed backend answer: the SDK error's `$response`, or raw-get.ts's GetFailure's. */
function failureHeaders(e: unknown): Record<string, string> | undefined {
  return (e as { $response?: { headers?: Record<string, string> } } | null)?.$response?.headers;
}

/** One backend request through the SDK; its failure as Cairn's S3 error (S3GatewayObjects.call). */
export type Call = <T>(cmd: object, notFound?: Parameters<typeof backendError>[1]) => Promise<T>;

export class GatewayReads {
  constructor(
    private readonly call: Call,
    private readonly sdk: Sdk,
    /** Object bytes are read with this (raw-get.ts); everything else through the SDK (`call`). */
    private readonly getter: RawGetter,
    private readonly tails: TailCache,
    /** The buckets' versioning (what a version id of 'null' is sent as). */
    private readonly versioning: BackendVersioning,
  ) {}

  async openObject(bucket: string, key: string, opts: L.OpenOptions = {}): Promise<L.OpenedObject> {
    // A GET of the whole object, or of one range, is one backend GET: its answer's headers are the metadata
    // (size and ETag of a range from Content-Range), its body the bytes the caller reads next.
    let begun: Readable | undefined;
    let span: L.ByteRange | undefined;
    let info: L.ObjectInfo | undefined;
    const range = opts.readingRange !== undefined && ONE_RANGE.test(opts.readingRange) ? opts.readingRange : undefined;
    if (opts.readingWhole || range !== undefined) {
      // A range the backend cannot satisfy (416) says nothing of the object: then a HEAD, and the API layer answers.
      const got = await this.getBegun(bucket, key, opts.versionId, range).catch((e: unknown) =>
        e instanceof S3Error && e.code === 'InvalidRange' && range !== undefined ? undefined : Promise.reject(e),
      );
      if (got) ({ info, body: begun, span } = got);
    }
    if (info?.deleteMarker) return { info, read: () => Promise.reject(new S3Error('NoSuchKey')), release: () => {} };
    if (!info) info = await this.headObject(bucket, key, opts);
    else if (opts.readingParts) {
      try {
        await this.addParts(info);
      } catch (e) {
        begun?.destroy();
        throw e;
      }
    }
    const release = () => {
      begun?.destroy();
      begun = undefined;
    };
    const cacheId = `${bucket}\0${key}\0${info.etag}\0${info.size}\0${info.versionId}`;
    const known = info;
    return {
      info,
      release,
      read: async (range) => {
        if (begun && (range ? span && span.start === range.start && span.end === range.end : !span)) {
          const body = begun;
          begun = undefined;
          return body;
        }
        release();
        if (range && (range.start > range.end || range.start >= known.size)) throw new S3Error('InvalidRange');
        if (TailCache.wants(range, known.size)) {
          const kept = this.tails.get(cacheId, range);
          if (kept) return ReadableStream.from([kept], { objectMode: false });
        }
        if (!TailCache.wants(range, known.size)) return this.get(known, range);
        // The whole tail window is read and kept: the footer read that follows the length read is in it.
        const tail = TailCache.window(range, known.size);
        const bytes = Buffer.concat(await (await this.get(known, tail)).toArray());
        this.tails.put(cacheId, tail.start, bytes);
        return ReadableStream.from([bytes.subarray(range.start - tail.start)], { objectMode: false });
      },
    };
  }

  /**
   * GET of a whole version, or of `range` (a Range header of one range): its info from the answer's headers,
   * the body, not yet read, and the bytes it holds (`span`; absent: all of them). Tags only when the answer
   * counts some (x-amz-tagging-count): a policy may test them and the answer carries their count.
   */
  private async getBegun(bucket: string, key: string, versionId: string | undefined, range?: string) {
    const VersionId = await this.versioning.param(bucket, versionId);
    const query: [string, string][] = VersionId ? [['versionId', VersionId]] : [];
    const headers: Record<string, string> = { 'x-amz-checksum-mode': 'ENABLED' };
    if (range !== undefined) headers.range = range;
    let res: Awaited<ReturnType<RawGetter['get']>>;
    try {
      res = await this.getter.get(bucket, key, query, headers);
    } catch (e) {
      const marker = deleteMarkerInfo(bucket, key, failureHeaders(e), versionId !== undefined);
      if (marker) return { info: marker, body: undefined, span: undefined };
      throw backendError(e, (versionId !== undefined ? 'NoSuchVersion' : 'NoSuchKey') as 'NoSuchKey');
    }
    try {
      let span: L.ByteRange | undefined;
      const h = { ...res.headers };
      if (res.status === 206) {
        const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(h['content-range'] ?? '');
        if (!m) throw new S3Error('ServiceUnavailable', 'The backend answered a range without a Content-Range.');
        span = { start: Number(m[1]), end: Number(m[2]) };
        h['content-length'] = m[3]; // the object's size; the range's checksum, if any, is not the object's
        for (const name of Object.keys(h)) if (name.startsWith('x-amz-checksum-')) delete h[name];
      }
      const tags = await this.tagsCounted(bucket, key, h);
      const info = infoFromHeaders(bucket, key, h, tags);
      info.isLatest = await this.latest(bucket, versionId);
      return { info, body: res.body as Readable | undefined, span };
    } catch (e) {
      res.body.destroy();
      throw e;
    }
  }

  /** The version's tags when the answer's headers count some (x-amz-tagging-count), else none asked for. */
  private async tagsCounted(bucket: string, key: string, h: Record<string, string | undefined>) {
    if (!(Number(h['x-amz-tagging-count'] ?? 0) > 0)) return undefined;
    const out = await this.call<{ TagSet?: { Key?: string; Value?: string }[] }>(
      new this.sdk.GetObjectTaggingCommand({ Bucket: bucket, Key: key, VersionId: h['x-amz-version-id'] }),
    ).catch(() => undefined); // a backend without tagging answers without them
    return tagString(out?.TagSet);
  }

  /** The bytes of the version `info` describes (If-Match on its ETag: a version replaced since is not read). */
  private async get(info: L.ObjectInfo, range: L.ByteRange | undefined): Promise<Readable> {
    const VersionId = await this.versioning.param(info.bucket, info.versionId);
    const query: [string, string][] = VersionId ? [['versionId', VersionId]] : [];
    const headers: Record<string, string> = { 'if-match': quote(info.etag) };
    if (range) headers.range = `bytes=${range.start}-${range.end}`;
    try {
      return (await this.getter.get(info.bucket, info.key, query, headers)).body;
    } catch (e) {
      const err = backendError(e);
      if (err.code === 'PreconditionFailed' || err.code === 'NoSuchKey') throw changed();
      throw err;
    }
  }

  async headObject(bucket: string, key: string, opts: L.HeadOptions = {}): Promise<L.ObjectInfo> {
    const VersionId = await this.versioning.param(bucket, opts.versionId);
    const notFound = opts.versionId !== undefined ? 'NoSuchVersion' : 'NoSuchKey';
    // One HEAD; the tags only when its answer counts some (a policy may test them; GET answers their count).
    let counted: Record<string, string | undefined> = {};
    let answered: Record<string, string> | undefined;
    const cmd = new this.sdk.HeadObjectCommand({ Bucket: bucket, Key: key, VersionId, ChecksumMode: 'ENABLED' });
    cmd.middlewareStack.add(
      (next) => async (args) => {
        try {
          const out = await next(args);
          answered = (out.response as { headers?: Record<string, string> } | undefined)?.headers ?? {};
          counted = { 'x-amz-tagging-count': answered['x-amz-tagging-count'], 'x-amz-version-id': VersionId };
          return out;
        } catch (e) {
          answered = failureHeaders(e);
          throw e;
        }
      },
      { step: 'deserialize', name: 'cairnTaggingCount' },
    );
    let head: { VersionId?: string };
    try {
      head = await this.call<{ VersionId?: string }>(cmd, notFound as 'NoSuchKey');
    } catch (e) {
      // A delete marker: 404 as the latest version, 405 named by its id, either saying x-amz-delete-marker.
      const marker = deleteMarkerInfo(bucket, key, answered, opts.versionId !== undefined);
      if (marker) return marker;
      return this.missing(bucket, e);
    }
    counted['x-amz-version-id'] ??= head.VersionId;
    const info = infoFromHead(bucket, key, head, await this.tagsCounted(bucket, key, counted));
    info.isLatest = await this.latest(bucket, opts.versionId);
    if (opts.readingParts) await this.addParts(info);
    return info;
  }

  /**
   * The parts of a multipart object (ETag `…-N`) in `info.parts`, for a partNumber read or GetObjectAttributes:
   * the backend's GetObjectAttributes (ObjectParts), a page of 1000 at a time. That request has no If-Match: the
   * ETag it answers must be the one `info` was read with, else the object changed in between. A backend that
   * counts the parts but lists none (AWS lists them only for objects uploaded with checksums) is NotImplemented,
   * never a wrong part.
   */
  private async addParts(info: L.ObjectInfo): Promise<void> {
    const count = Number(/-(\d+)$/.exec(info.etag)?.[1] ?? 0);
    if (count === 0) return;
    const VersionId = await this.versioning.param(info.bucket, info.versionId);
    const parts: L.PartInfo[] = [];
    let marker: string | undefined;
    for (let page = 0; page < PART_PAGES; page++) {
      const out = await this.call<AttributesOut>(
        new this.sdk.GetObjectAttributesCommand({
          Bucket: info.bucket,
          Key: info.key,
          VersionId,
          ObjectAttributes: ['ETag', 'ObjectParts'],
          MaxParts: 1000,
          PartNumberMarker: marker,
        }),
      ).catch((e: unknown) => Promise.reject(e instanceof S3Error && e.code === 'NoSuchKey' ? changed() : e));
      if (unquote(out.ETag) !== info.etag) throw changed();
      for (const p of out.ObjectParts?.Parts ?? []) {
        // GetObjectAttributes names no part ETags: nothing reads them for a gateway object (no replication).
        const part: L.PartInfo = {
          number: p.PartNumber ?? 0,
          size: p.Size ?? 0,
          etag: '',
          lastModified: info.lastModified,
        };
        const algorithm = info.checksum?.algorithm ?? CHECKSUM_ALGORITHMS.find((a) => p[`Checksum${a}`]);
        const value = algorithm && p[`Checksum${algorithm}`];
        if (algorithm && value) part.checksum = { algorithm, type: info.checksum?.type ?? 'COMPOSITE', value };
        parts.push(part);
      }
      marker = out.ObjectParts?.NextPartNumberMarker;
      if (!out.ObjectParts?.IsTruncated || !marker) break;
    }
    if (parts.length !== count)
      throw new S3Error('NotImplemented', 'The backend does not list the parts of this object to the S3 gateway.');
    info.parts = parts;
  }

  /**
   * Whether a version read is the latest: so when none was named. One named in a bucket with versions may be an
   * older one, and is not taken for the latest (a copy of it onto its own key is a new version, not a no-op).
   */
  private async latest(bucket: string, versionId: string | undefined): Promise<boolean> {
    return versionId === undefined || (await this.versioning.param(bucket, 'null')) === undefined;
  }

  /** A HEAD's 404 has no body: whether the key or the bucket is missing is asked of the bucket. */
  private async missing(bucket: string, e: unknown): Promise<never> {
    if (e instanceof S3Error && (e.code === 'NoSuchKey' || e.code === 'NoSuchVersion'))
      await this.call(new this.sdk.HeadBucketCommand({ Bucket: bucket }), 'NoSuchBucket');
    throw e;
  }
}
