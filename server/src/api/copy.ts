// CopyObject (metadata and tagging directives, conditional copy, copy onto itself to change metadata) and
// the source side of UploadPartCopy. The source streams from storage into the destination write; reading
// it needs its own permission (s3:GetObject, s3:GetObjectVersion for a named version), checked here for both.
import { objectEvent, type PlannedReplication } from './notify/event.js';
import { S3Error } from '../errors.js';
import type { Readable } from 'node:stream';
import type {
  ByteRange,
  ObjectBody,
  ObjectInfo,
  OpenedObject,
  PutOptions,
  StorageClass,
} from '../storage/object-layer.js';
import type { ObjectRef } from './operation.js';
import { newObjectAcl, withObjectAcl } from './acl.js';
import { authorize, checkExpectedOwner } from './authorize.js';
import { checkConditions, quoteEtag } from './object-headers.js';
import { expirationHeader } from './lifecycle/index.js';
import { newObjectLock } from './object-lock.js';
import { bucketSettings } from './bucket-settings.js';
import { withinQuota } from './quota.js';
import { planReplication, replicationOptions } from './replication/index.js';
import { refuseDeleteMarker } from './object-read.js';
import {
  encryptionChanges,
  encryptionContextHeader,
  encryptionHeaders,
  keysForRead,
  wipeKey,
  newEncryption,
  readDecrypted,
  sealForPut,
  writeEncryption,
  type DataKey,
} from './sse/index.js';
import { writePrecondition } from './object-put.js';
import {
  MAX_SINGLE_PUT,
  checkKey,
  contentHeaders,
  requestedAlgorithm,
  storageClass,
  taggingHeader,
  userMetadata,
} from './put-input.js';
import { xmlResponse, type ApiContext, type S3Request, type S3Response } from './types.js';
import { toXml } from './xml.js';

export interface CopySource {
  info: ObjectInfo;
  body: ObjectBody;
  range?: ByteRange;
  /** An encrypted source's data key, for the caller to wipe once the copy is stored. */
  keys?: DataKey;
}

function parseCopyRange(v: string, size: number): ByteRange {
  const m = /^bytes=(\d+)-(\d+)$/.exec(v.trim());
  if (!m)
    throw new S3Error(
      'InvalidArgument',
      'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
      { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: v },
    );
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start || end >= size)
    throw new S3Error('InvalidRange', undefined, { RangeRequested: v, ActualObjectSize: String(size) });
  return { start, end };
}

/** The source version, checked, with its data key when it is encrypted (the copy-source SSE-C headers). */
async function openSource(ctx: ApiContext, req: S3Request, src: ObjectRef): Promise<OpenedObject & { keys?: DataKey }> {
  await authorize(ctx, req, src.versionId ? 's3:GetObjectVersion' : 's3:GetObject', src);
  await checkExpectedOwner(ctx, src.bucket, req.headers['x-amz-source-expected-bucket-owner']);
  const opened = await ctx.storage.openObject(src.bucket, src.key, { versionId: src.versionId });
  // A copy names a delete marker's version id: InvalidRequest (not GET's 405); the latest being one: NoSuchKey.
  if (opened.info.deleteMarker && src.versionId) {
    throw new S3Error(
      'InvalidRequest',
      'The source of a copy request may not specifically refer to a delete marker by version id.',
    );
  }
  refuseDeleteMarker(opened.info, src.versionId);
  const keys = await keysForRead(req, ctx.sse ?? {}, opened.info, true);
  try {
    checkConditions(req.headers, opened.info, 'x-amz-copy-source-');
  } catch (e) {
    wipeKey(keys);
    throw e;
  }
  return { ...opened, keys };
}

/** The source's bytes (plaintext: an encrypted source is opened with its key). */
function readSource(source: OpenedObject & { keys?: DataKey }, range?: ByteRange): Promise<Readable> {
  return source.keys ? readDecrypted(source.read, source.info, source.keys, range) : source.read(range);
}

export async function openCopySource(
  ctx: ApiContext,
  req: S3Request,
  src: ObjectRef,
  rangeHeader?: string,
): Promise<CopySource> {
  const source = await openSource(ctx, req, src);
  try {
    const range = rangeHeader !== undefined ? parseCopyRange(rangeHeader, source.info.size) : undefined;
    return { info: source.info, body: await readSource(source, range), range, keys: source.keys };
  } catch (e) {
    wipeKey(source.keys); // the caller wipes it once the copy is stored, or fails
    throw e;
  }
}

function directive(req: S3Request, name: string): 'COPY' | 'REPLACE' {
  const v = req.headers[name];
  if (v === undefined) return 'COPY';
  const s = String(v).toUpperCase();
  if (s !== 'COPY' && s !== 'REPLACE')
    throw new S3Error('InvalidArgument', `Unknown ${name}`, { ArgumentName: name, ArgumentValue: String(v) });
  return s;
}

export async function copyObject(
  ctx: ApiContext,
  req: S3Request,
  bucket: string,
  key: string,
  source: ObjectRef,
): Promise<S3Response> {
  checkKey(key);
  const metaDirective = directive(req, 'x-amz-metadata-directive');
  const tagDirective = directive(req, 'x-amz-tagging-directive');
  const opened = await openSource(ctx, req, source);
  // The source's data key is wiped on every way out (refusals, a metadata-only copy, the copy stored).
  try {
    const { info } = opened;
    if (info.size > MAX_SINGLE_PUT)
      throw new S3Error(
        'InvalidRequest',
        'The specified copy source is larger than the maximum allowable size for a copy source: 5368709120',
      );
    const newClass = storageClass(req.headers);
    const replace = metaDirective === 'REPLACE';
    // The copy is a new object: its ACL is the one asked for (or the writer's default), never the source's.
    const acl = await newObjectAcl(ctx, req, bucket);
    const meta = replace
      ? { contentHeaders: contentHeaders(req.headers), userMetadata: withObjectAcl(userMetadata(req.headers), acl) }
      : { contentHeaders: info.contentHeaders, userMetadata: withObjectAcl(info.userMetadata, acl) };
    const tagging = tagDirective === 'REPLACE' ? (taggingHeader(req.headers) ?? '') : info.tagging;

    const h: Record<string, string> = {};
    if (info.versionId !== 'null') h['x-amz-copy-source-version-id'] = info.versionId;

    // The copy's checksum: the algorithm asked for, else the source's (made whole-object), else CRC64NVME,
    // which S3 adds to every copy of an object that has none.
    const requested = requestedAlgorithm(req.headers);
    const checksumAlgorithm = requested ?? info.checksum?.algorithm ?? 'CRC64NVME';
    // The stored checksum stays valid only when it is already that algorithm over the whole object.
    const checksumKept = info.checksum?.algorithm === checksumAlgorithm && info.checksum.type === 'FULL_OBJECT';

    // The copy's lock is its own (headers or the destination's default retention), never the source's.
    const lock = await newObjectLock(ctx, req, bucket, key);
    // A locked bucket's versions never change in place: a copy onto itself makes a new version.
    const inPlaceAllowed = !(await bucketSettings(ctx, bucket)).config.objectLockEnabled;
    // SSE-C of the copy: another key (or none, or one where there was none) rewrites the data (key rotation).
    const settings = ctx.sse ?? {};
    const we = writeEncryption(req, settings, (await bucketSettings(ctx, bucket)).defaultEncryption);
    const encryptionChange = encryptionChanges(we, info.encryption, settings);
    const sameObject = source.bucket === bucket && source.key === key;
    if (sameObject && (!source.versionId || source.versionId === info.versionId) && info.isLatest) {
      const checksumChange = requested !== undefined && !checksumKept;
      const unchanged = !replace && tagDirective === 'COPY' && (!newClass || newClass === info.storageClass);
      if (unchanged && !checksumChange && !encryptionChange) {
        throw new S3Error(
          'InvalidRequest',
          "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        );
      }
      if ((!newClass || newClass === info.storageClass) && checksumKept && inPlaceAllowed && !encryptionChange) {
        const updated = await ctx.storage.updateObjectMetadata(bucket, key, {
          versionId: info.versionId,
          ...meta,
          tagging: tagging ?? null,
        });
        if (updated.versionId !== 'null') h['x-amz-version-id'] = updated.versionId;
        Object.assign(h, await expirationHeader(ctx, updated));
        return copyResult(updated, h);
      }
    }

    // Written PENDING at its replication targets with the copy itself: one metadata write, not two.
    const replication = await planReplication(ctx, req, bucket, key, tagging || undefined);
    const plainOpts: PutOptions = {
      size: info.size,
      ...meta,
      tagging: tagging || undefined,
      // A transitioned source's class is its tier's name: its copy is made here, in STANDARD.
      storageClass: newClass ?? (info.transition ? 'STANDARD' : (info.storageClass as StorageClass)),
      checksumAlgorithm,
      precondition: writePrecondition(req.headers),
      lock,
      ...replicationOptions(replication),
    };
    const plainBody = await readSource(opened);
    const created = we && (await newEncryption(settings, we));
    const { body, opts } = created
      ? sealForPut(plainBody, plainOpts, created, settings)
      : { body: plainBody, opts: plainOpts };
    const out = await withinQuota(ctx, bucket, info.size, () => ctx.storage.putObject(bucket, key, body, opts)).finally(
      () => wipeKey(created?.dataKey),
    );
    if (out.versionId !== 'null') h['x-amz-version-id'] = out.versionId;
    Object.assign(h, encryptionHeaders(out.encryption), encryptionContextHeader(out.encryption));
    Object.assign(h, await expirationHeader(ctx, out));
    return copyResult(out, h, replication);
  } finally {
    wipeKey(opened.keys);
  }
}

function copyResult(out: ObjectInfo, h: Record<string, string>, replication?: PlannedReplication): S3Response {
  const event = objectEvent('s3:ObjectCreated:Copy', out);
  if (replication) event.replication = replication;
  const events = [event];
  const checksum = out.checksum
    ? { [`Checksum${out.checksum.algorithm}`]: out.checksum.value, ChecksumType: out.checksum.type }
    : {};
  return xmlResponse(
    toXml('CopyObjectResult', { LastModified: out.lastModified, ETag: quoteEtag(out.etag), ...checksum }),
    200,
    h,
    events,
  );
}
