// The S3 calls the console makes (buckets, listings, objects), over client.ts's signed fetch.
import { call } from './client.js';
import { all, buildXml, childText, parseXml, text } from './xml.js';

export interface BucketEntry {
  name: string;
  created: string;
}

export async function listBuckets(): Promise<BucketEntry[]> {
  const doc = parseXml(await (await call({})).text());
  return all(doc, 'Bucket').map((b) => ({ name: childText(b, 'Name'), created: childText(b, 'CreationDate') }));
}

/** Creates a bucket; with `objectLock`, one whose versions can be locked (versioning on, for good). */
export async function createBucket(name: string, objectLock = false): Promise<void> {
  const headers: Record<string, string> = objectLock ? { 'x-amz-bucket-object-lock-enabled': 'true' } : {};
  await call({ method: 'PUT', bucket: name, headers });
}

export async function deleteBucket(name: string): Promise<void> {
  await call({ method: 'DELETE', bucket: name });
}

export interface ObjectEntry {
  key: string;
  size: number;
  modified: string;
}

export interface Listing {
  prefixes: string[];
  objects: ObjectEntry[];
  /** Where the next page starts, when there is one. */
  next?: string;
}

/** One page of ListObjectsV2 with delimiter `/` under `prefix`. */
export async function listObjects(bucket: string, prefix: string, token?: string, maxKeys = 200): Promise<Listing> {
  const query: [string, string][] = [
    ['list-type', '2'],
    ['delimiter', '/'],
    ['prefix', prefix],
    ['max-keys', String(maxKeys)],
    ['encoding-type', 'url'],
  ];
  if (token) query.push(['continuation-token', token]);
  const doc = parseXml(await (await call({ bucket, query })).text());
  // encoding-type=url: keys come percent-encoded (so any byte survives XML).
  const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
  return {
    prefixes: all(doc, 'CommonPrefixes').map((p) => decode(childText(p, 'Prefix'))),
    objects: all(doc, 'Contents').map((c) => ({
      key: decode(childText(c, 'Key')),
      size: Number(childText(c, 'Size')),
      modified: childText(c, 'LastModified'),
    })),
    next: text(doc, 'IsTruncated') === 'true' ? text(doc, 'NextContinuationToken') : undefined,
  };
}

export async function deleteObject(bucket: string, key: string): Promise<void> {
  await call({ method: 'DELETE', bucket, key });
}

export interface ObjectHead {
  size: number;
  type: string;
  metadata: [string, string][];
}

export async function headObject(bucket: string, key: string): Promise<ObjectHead> {
  const res = await call({ method: 'HEAD', bucket, key });
  const metadata: [string, string][] = [];
  res.headers.forEach((v, k) => {
    if (k.startsWith('x-amz-meta-')) metadata.push([k.slice('x-amz-meta-'.length), v]);
  });
  return {
    size: Number(res.headers.get('content-length') ?? 0),
    type: res.headers.get('content-type') ?? '',
    metadata,
  };
}

/** The first `bytes` of an object (a ranged GET). */
export async function readStart(bucket: string, key: string, bytes: number): Promise<Uint8Array> {
  const res = await call({ bucket, key, headers: { range: `bytes=0-${bytes - 1}` } });
  return new Uint8Array(await res.arrayBuffer());
}

/** Bytes `start` up to (not including) `end` of an object. */
export async function readRange(bucket: string, key: string, start: number, end: number): Promise<ArrayBuffer> {
  const res = await call({ bucket, key, headers: { range: `bytes=${start}-${end - 1}` } });
  return res.arrayBuffer();
}

export async function startMultipart(bucket: string, key: string, type: string): Promise<string> {
  const res = await call({ method: 'POST', bucket, key, query: [['uploads', '']], headers: { 'content-type': type } });
  return text(parseXml(await res.text()), 'UploadId');
}

export async function completeMultipart(bucket: string, key: string, uploadId: string, etags: string[]) {
  const body = buildXml('CompleteMultipartUpload', {
    Part: etags.map((etag, i) => ({ PartNumber: String(i + 1), ETag: etag })),
  });
  const res = await call({ method: 'POST', bucket, key, query: [['uploadId', uploadId]], body });
  // S3 can answer 200 with an error in the body.
  const doc = parseXml(await res.text());
  if (doc.documentElement.tagName === 'Error') throw new Error(text(doc, 'Message') || 'multipart upload failed');
}

export async function abortMultipart(bucket: string, key: string, uploadId: string): Promise<void> {
  await call({ method: 'DELETE', bucket, key, query: [['uploadId', uploadId]] });
}

export async function getObjectTags(bucket: string, key: string): Promise<[string, string][]> {
  const doc = parseXml(await (await call({ bucket, key, query: [['tagging', '']] })).text());
  return all(doc, 'Tag').map((t) => [childText(t, 'Key'), childText(t, 'Value')]);
}

export async function putObjectTags(bucket: string, key: string, tags: [string, string][]): Promise<void> {
  const body = buildXml('Tagging', { TagSet: { Tag: tags.map(([Key, Value]) => ({ Key, Value })) } });
  await call({ method: 'PUT', bucket, key, query: [['tagging', '']], body });
}
