// Multipart uploads: create, upload part, upload part copy (with ranges), complete, abort, list parts,
// list uploads. Part-size and ETag validation of Complete happen in storage; the order and the count here.
import { objectEvent, type ObjectEvent, type PlannedReplication } from './notify/event.js';
import { createHash } from 'node:crypto';
import { S3Error, isS3Error } from '../errors.js';
import type {
  ChecksumType,
  CompletePart,
  MultipartUploadInfo,
  ObjectInfo,
  StoredChecksum,
} from '../storage/object-layer.js';
import { openCopySource } from './copy.js';
import { encoder } from './list.js';
import { checksumHeaderName, quoteEtag, unquoteEtag } from './object-headers.js';
import { writePrecondition, writeResultHeaders } from './object-put.js';
import { accounts, newObjectAcl, withObjectAcl } from './acl.js';
import { expirationHeader } from './lifecycle/index.js';
import { newObjectLock } from './object-lock.js';
import {
  checkKey,
  contentHeaders,
  integrity,
  requestedAlgorithm,
  storageClass,
  taggingHeader,
  userMetadata,
} from './put-input.js';
import { readDocument } from './request-body.js';
import { bucketSettings } from './bucket-settings.js';
import { withinQuota } from './quota.js';
import {
  checkCompleteKey,
  checkPartEncryption,
  encryptionContextHeader,
  encryptionHeaders,
  newEncryption,
  requestCustomerKey,
  sealPart,
  wipeKey,
  writeEncryption,
} from './sse/index.js';
import { planReplication, replicationOptions } from './replication/index.js';
import { replicaCompleteTime, replicaPut } from './replication/receive.js';
import { emptyResponse, objectUrl, xmlResponse, type ApiContext, type S3Request, type S3Response } from './types.js';
import { many, parseXml, str, toXml, type XmlValue } from './xml.js';

const MAX_PART_SIZE = 5 * 1024 ** 3;

export async function createMultipartUpload(
  ctx: ApiContext,
  req: S3Request,
  bucket: string,
  key: string,
): Promise<S3Response> {
  checkKey(key);
  const typeHeader = req.headers['x-amz-checksum-type'];
  let checksumType: ChecksumType | undefined;
  if (typeHeader !== undefined) {
    const t = String(typeHeader).toUpperCase();
    if (t !== 'FULL_OBJECT' && t !== 'COMPOSITE')
      throw new S3Error('InvalidRequest', 'Value for x-amz-checksum-type header is invalid.');
    checksumType = t;
  }
  const alg = requestedAlgorithm(req.headers);
  // The upload (and the object it makes) belongs to the owner its ACL names: the writer, or the bucket owner
  // under BucketOwnerEnforced / BucketOwnerPreferred with bucket-owner-full-control.
  const acl = await newObjectAcl(ctx, req, bucket);
  const settings = ctx.sse ?? {};
  const bucketConfig = await bucketSettings(ctx, bucket);
  const replica = replicaPut(req.headers, req.op, bucketConfig.config.versioning);
  const we = writeEncryption(req, settings, bucketConfig.defaultEncryption);
  const created = we && (await newEncryption(settings, we));
  wipeKey(created?.dataKey); // only its sealed form is stored now; each part opens it again
  const up = await ctx.storage.newMultipartUpload(bucket, key, {
    ...(replica ? { replicaVersionId: replica.replica.versionId, replicationStatus: replica.replicationStatus } : {}),
    encryption: created?.encryption,
    contentHeaders: contentHeaders(req.headers),
    userMetadata: withObjectAcl(userMetadata(req.headers), acl),
    tagging: taggingHeader(req.headers),
    storageClass: storageClass(req.headers),
    checksumAlgorithm: alg,
    checksumType,
    lock: await newObjectLock(ctx, req, bucket, key),
    initiator: acl?.owner ?? (await ctx.storage.getBucketConfig(bucket)).owner ?? accounts(ctx).rootKey,
  });
  const h: Record<string, string> = { ...encryptionHeaders(up.encryption), ...encryptionContextHeader(up.encryption) };
  if (up.checksumAlgorithm) h['x-amz-checksum-algorithm'] = up.checksumAlgorithm;
  if (up.checksumType) h['x-amz-checksum-type'] = up.checksumType;
  return xmlResponse(
    toXml('InitiateMultipartUploadResult', { Bucket: bucket, Key: key, UploadId: up.uploadId }),
    200,
    h,
  );
}

export async function uploadPart(
  ctx: ApiContext,
  req: S3Request,
  bucket: string,
  key: string,
  uploadId: string,
  partNumber: number,
): Promise<S3Response> {
  if (req.size > MAX_PART_SIZE) throw new S3Error('EntityTooLarge');
  const upload = await ctx.storage.getMultipartUpload(bucket, key, uploadId);
  const checks = integrity(req.headers, req.trailers);
  const plain = { size: req.size, ...checks, checksumAlgorithm: checks.checksumAlgorithm ?? upload.checksumAlgorithm };
  const ckey = requestCustomerKey(req, ctx.sse ?? {});
  checkPartEncryption(req, upload);
  // A body of unknown size (chunked, no decoded length) is checked against the quota at its end.
  let quotaFits: (size: number) => Promise<void> = async () => {};
  const verify = async (computed: { md5: Buffer; checksum?: Buffer; size: number }) => {
    await checks.verify?.(computed);
    await quotaFits(computed.size);
  };
  const { body, opts, wipe } = await sealPart(ctx.sse ?? {}, req.body, { ...plain, verify }, ckey, upload, partNumber);
  const part = await withinQuota(ctx, bucket, req.size, (fits) => {
    quotaFits = fits;
    return ctx.storage.putObjectPart(bucket, key, uploadId, partNumber, body, opts);
  }).finally(wipe);
  const h: Record<string, string> = { etag: quoteEtag(part.etag), ...encryptionHeaders(upload.encryption) };
  if (part.checksum) h[checksumHeaderName(part.checksum)] = part.checksum.value;
  return emptyResponse(200, h);
}

export async function uploadPartCopy(
  ctx: ApiContext,
  req: S3Request,
  bucket: string,
  key: string,
  uploadId: string,
  partNumber: number,
  source: { bucket: string; key: string; versionId?: string },
): Promise<S3Response> {
  const src = await openCopySource(
    ctx,
    req,
    source,
    typeof req.headers['x-amz-copy-source-range'] === 'string' ? req.headers['x-amz-copy-source-range'] : undefined,
  );
  // The source's data key is wiped on every way out (a refusal below, or the part stored or failed).
  try {
    const size = src.range ? src.range.end - src.range.start + 1 : src.info.size;
    if (size > MAX_PART_SIZE) throw new S3Error('EntityTooLarge');
    const upload = await ctx.storage.getMultipartUpload(bucket, key, uploadId);
    const ckey = requestCustomerKey(req, ctx.sse ?? {});
    const plain = { size, checksumAlgorithm: upload.checksumAlgorithm };
    const { body, opts, wipe } = await sealPart(ctx.sse ?? {}, src.body, plain, ckey, upload, partNumber);
    const part = await withinQuota(ctx, bucket, size, () =>
      ctx.storage.putObjectPart(bucket, key, uploadId, partNumber, body, opts),
    ).finally(wipe);
    const h: Record<string, string> = encryptionHeaders(upload.encryption);
    if (src.info.versionId !== 'null') h['x-amz-copy-source-version-id'] = src.info.versionId;
    return xmlResponse(
      toXml('CopyPartResult', { LastModified: part.lastModified, ETag: quoteEtag(part.etag) }),
      200,
      h,
    );
  } finally {
    wipeKey(src.keys);
  }
}

/**
 * x-amz-checksum-<alg> on CompleteMultipartUpload is the checksum the client expects of the whole object
 * (a composite value may carry its `-N` suffix or not), x-amz-checksum-type the way it is combined: a
 * different or missing one is BadDigest, as S3 answers.
 */
function expectedChecksum(h: S3Request['headers']): ((c: StoredChecksum | undefined) => void) | undefined {
  const unsupported = Object.keys(h).find((k) => /^x-amz-checksum-(md5|sha512|xxhash64|xxhash3|xxhash128)$/.test(k));
  if (unsupported) throw new S3Error('NotImplemented', `${unsupported} is not implemented`);
  const name = Object.keys(h).find((k) => /^x-amz-checksum-(crc32|crc32c|crc64nvme|sha1|sha256)$/.test(k));
  const type = typeof h['x-amz-checksum-type'] === 'string' ? h['x-amz-checksum-type'].toUpperCase() : undefined;
  if (name === undefined && type === undefined) return undefined;
  const want = name === undefined ? undefined : String(h[name]).replace(/-\d+$/, '');
  const alg = name?.slice('x-amz-checksum-'.length).toUpperCase();
  return (c) => {
    if (alg !== undefined && (!c || c.algorithm !== alg || c.value.replace(/-\d+$/, '') !== want)) {
      throw new S3Error('BadDigest', `The ${alg} you specified did not match the calculated checksum.`);
    }
    if (type !== undefined && c?.type !== type) {
      throw new S3Error('BadDigest', `The x-amz-checksum-type ${type} does not match the upload's checksum type.`);
    }
  };
}

function expectedSize(h: S3Request['headers']): number | undefined {
  const v = h['x-amz-mp-object-size'];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d{1,16}$/.test(v)) {
    const name = 'x-amz-mp-object-size';
    throw new S3Error('InvalidArgument', `${name} must be a number of bytes`, { ArgumentName: name });
  }
  return Number(v);
}

export async function completeMultipartUpload(
  ctx: ApiContext,
  req: S3Request,
  bucket: string,
  key: string,
  uploadId: string,
): Promise<S3Response> {
  // Up to 10,000 parts, each a Part with PartNumber, ETag and one checksum (one element spare).
  const maxElements = 1 + 10_000 * 5;
  const text = await readDocument(req, undefined, { checksumHeaders: false, maxElements });
  const doc = parseXml(text, 'CompleteMultipartUpload');
  const parts: CompletePart[] = many(doc.Part).map((p) => {
    const o = p as Record<string, unknown>;
    const num = str(o.PartNumber);
    const etag = str(o.ETag);
    if (num === undefined || etag === undefined || !/^\d+$/.test(num)) throw new S3Error('MalformedXML');
    const checksum =
      str(o.ChecksumCRC32) ??
      str(o.ChecksumCRC32C) ??
      str(o.ChecksumCRC64NVME) ??
      str(o.ChecksumSHA1) ??
      str(o.ChecksumSHA256);
    return { number: Number(num), etag: unquoteEtag(etag), checksum };
  });
  if (parts.length === 0)
    throw new S3Error(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
    );
  if (parts.length > 10000)
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive');
  // Strictly ascending: a part number named twice is InvalidPartOrder too. AWS documents ascending order, and
  // servers that follow its answers refuse a repeat so (scality/cloudserver's MPU order tests: [3, 3, 1000] is
  // InvalidPartOrder). RGW keeps the last ETag named for a number instead, as ceph/s3-tests
  // test_multipart_resend_first_finishes_last expects; MinIO answers InvalidPart to that test's list.
  for (let i = 1; i < parts.length; i++)
    if (parts[i].number <= parts[i - 1].number) throw new S3Error('InvalidPartOrder');
  // SSE-C headers on Complete (boto3 and the AWS CLI send them): the upload's key, required when the upload has
  // a checksum algorithm. SSE-S3/SSE-KMS headers repeated on Complete (as on the parts): what the upload is.
  // A retried Complete finds no upload: storage's answer below tells it apart from an unknown one.
  const ckey = requestCustomerKey(req, ctx.sse ?? {});
  const upload = await ctx.storage.getMultipartUpload(bucket, key, uploadId).catch((e: unknown) => {
    if (isS3Error(e) && e.code === 'NoSuchUpload') return undefined;
    throw e;
  });
  await checkCompleteKey(ctx.sse ?? {}, ckey, upload);
  if (upload) checkPartEncryption(req, upload);
  // Written PENDING at its replication targets with the object itself (a replica's upload keeps REPLICA), by the
  // rules as they are now, as MinIO decides at completion.
  const replication =
    upload && !upload.replicaVersionId ? await planReplication(ctx, req, bucket, key, upload.tagging) : undefined;
  let info: ObjectInfo;
  let retried = false;
  try {
    info = await ctx.storage.completeMultipartUpload(bucket, key, uploadId, parts, {
      precondition: writePrecondition(req.headers),
      verifyChecksum: expectedChecksum(req.headers),
      expectedSize: expectedSize(req.headers),
      replicaMtime: replicaCompleteTime(req.headers),
      ...replicationOptions(replication),
    });
  } catch (e) {
    // Completing an upload again (a client retry) answers with the object it created, as S3 does.
    if (!isS3Error(e) || e.code !== 'NoSuchUpload') throw e;
    const current = await ctx.storage.headObject(bucket, key).catch(() => null);
    const etag = `${createHash('md5')
      .update(Buffer.concat(parts.map((p) => Buffer.from(p.etag, 'hex'))))
      .digest('hex')}-${parts.length}`;
    if (!current || current.deleteMarker || current.etag !== etag) throw e;
    info = current;
    retried = true; // its event went out with the first answer
  }
  // The object's encryption, as PutObject answers it (S3 answers SSE-S3's and SSE-KMS's headers here too).
  const h = {
    ...writeResultHeaders(info),
    ...(await expirationHeader(ctx, info)),
    ...encryptionHeaders(info.encryption),
    ...encryptionContextHeader(info.encryption),
  };
  delete h.etag;
  const checksum: Record<string, XmlValue> = {};
  if (info.checksum) {
    checksum[`Checksum${info.checksum.algorithm}`] = info.checksum.value;
    checksum.ChecksumType = info.checksum.type;
  }
  return xmlResponse(
    toXml('CompleteMultipartUploadResult', {
      Location: objectUrl(req.endpoint, bucket, key),
      Bucket: bucket,
      Key: key,
      ETag: quoteEtag(info.etag),
      ...checksum,
    }),
    200,
    h,
    retried ? undefined : [completedEvent(info, replication)],
  );
}

function completedEvent(info: ObjectInfo, replication: PlannedReplication | undefined): ObjectEvent {
  const event = objectEvent('s3:ObjectCreated:CompleteMultipartUpload', info);
  if (replication) event.replication = replication;
  return event;
}

export async function abortMultipartUpload(
  ctx: ApiContext,
  bucket: string,
  key: string,
  uploadId: string,
): Promise<S3Response> {
  await ctx.storage.abortMultipartUpload(bucket, key, uploadId);
  return emptyResponse(204);
}

/** Initiator and Owner of an upload: the user who started it (uploads without one: the root). */
function initiatorOf(ctx: ApiContext, u: MultipartUploadInfo): { ID: string; DisplayName: string } {
  const acc = accounts(ctx);
  const key = u.initiator ?? acc.rootKey;
  return { ID: acc.idOf(key), DisplayName: acc.nameOf(key) };
}

export async function listParts(
  ctx: ApiContext,
  bucket: string,
  key: string,
  uploadId: string,
  partNumberMarker: number | undefined,
  maxParts: number,
): Promise<S3Response> {
  const r = await ctx.storage.listParts(bucket, key, uploadId, { partNumberMarker, maxParts });
  const owner = initiatorOf(ctx, r.upload);
  return xmlResponse(
    toXml('ListPartsResult', {
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      Initiator: owner,
      Owner: owner,
      StorageClass: r.upload.storageClass,
      PartNumberMarker: partNumberMarker ?? 0,
      NextPartNumberMarker: r.nextPartNumberMarker ?? (r.parts.length ? r.parts[r.parts.length - 1].number : 0),
      MaxParts: maxParts,
      IsTruncated: r.isTruncated,
      ChecksumAlgorithm: r.upload.checksumAlgorithm,
      ChecksumType: r.upload.checksumType,
      Part: r.parts.map((p) => ({
        PartNumber: p.number,
        LastModified: p.lastModified,
        ETag: quoteEtag(p.etag),
        Size: p.size,
        ...(p.checksum ? { [`Checksum${p.checksum.algorithm}`]: p.checksum.value } : {}),
      })),
    }),
  );
}

export async function listMultipartUploads(
  ctx: ApiContext,
  bucket: string,
  p: {
    prefix: string;
    delimiter?: string;
    keyMarker: string;
    uploadIdMarker?: string;
    maxUploads: number;
    encodingType?: 'url';
  },
): Promise<S3Response> {
  const enc = encoder(p.encodingType);
  const r = await ctx.storage.listMultipartUploads(bucket, {
    prefix: p.prefix || undefined,
    delimiter: p.delimiter,
    keyMarker: p.keyMarker || undefined,
    uploadIdMarker: p.uploadIdMarker,
    maxUploads: p.maxUploads,
  });
  return xmlResponse(
    toXml('ListMultipartUploadsResult', {
      Bucket: bucket,
      KeyMarker: enc(p.keyMarker) ?? '',
      UploadIdMarker: p.uploadIdMarker ?? '',
      NextKeyMarker: enc(r.nextKeyMarker) ?? '',
      NextUploadIdMarker: r.nextUploadIdMarker ?? '',
      Delimiter: enc(p.delimiter),
      Prefix: enc(p.prefix) ?? '',
      EncodingType: p.encodingType,
      MaxUploads: p.maxUploads,
      IsTruncated: r.isTruncated,
      Upload: r.uploads.map((u) => ({
        Key: enc(u.key),
        UploadId: u.uploadId,
        Initiator: initiatorOf(ctx, u),
        Owner: initiatorOf(ctx, u),
        StorageClass: u.storageClass,
        Initiated: u.initiated,
        ChecksumAlgorithm: u.checksumAlgorithm,
        ChecksumType: u.checksumType,
      })),
      CommonPrefixes: r.commonPrefixes.map((cp) => ({ Prefix: enc(cp) })),
    }),
  );
}
