// The router: a pure function from a request's method, path, query and headers to an Operation.
// Path-style (`/bucket/key`) always works; virtual-host style (`bucket.<domain>`) when a domain is
// configured. No I/O here, so it is tested as a table (server/test/http/router.test.ts).
import { S3Error } from '../errors.js';
import type { ListV1Params, ListV2Params, ObjectRef, Operation } from '../api/operation.js';
import { REPLICATION_REQUEST, replicationAction } from '../api/replication/receive.js';

export interface RouteInput {
  method: string;
  /** The raw (still percent-encoded) path, without the query string. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  /** Domains for virtual-host addressing (e.g. `s3.example.com`); empty means path-style only. */
  domains?: readonly string[];
}

export interface Route {
  bucket?: string;
  key?: string;
  op: Operation;
}

const MAX_KEYS = 1000;

/** Bucket subresources that exist in S3 but Cairn does not implement (answered by UnsupportedBucketOp). */
const UNSUPPORTED_BUCKET = [
  'logging',
  'website',
  'accelerate',
  'requestPayment',
  'analytics',
  'metrics',
  'inventory',
  'intelligent-tiering',
];
const UNSUPPORTED_OBJECT = ['restore', 'torrent'];
/**
 * Query parameters of `GET /` that ask for something other than ListBuckets, which Cairn does not do: it
 * would otherwise answer ListBuckets and ignore them. `max-directory-buckets`: ListDirectoryBuckets.
 */
const UNSUPPORTED_SERVICE: Record<string, { action: string; what: string }> = {
  'max-directory-buckets': { action: 's3express:ListAllMyDirectoryBuckets', what: 'Directory buckets' },
};

function header(h: RouteInput['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Percent-decoding of one path part; a malformed escape is InvalidURI, not a crash. */
export function decodePathPart(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new S3Error('InvalidURI');
  }
}

/** Splits host-or-path addressing into bucket and key (both decoded; undefined when absent). */
export function locate(input: Pick<RouteInput, 'path' | 'headers' | 'domains'>): { bucket?: string; key?: string } {
  const host = (header(input.headers, 'host') ?? '').toLowerCase().replace(/:\d+$/, '');
  const path = input.path.startsWith('/') ? input.path.slice(1) : input.path;
  for (const domain of input.domains ?? []) {
    if (host.endsWith(`.${domain}`)) {
      const bucket = host.slice(0, -domain.length - 1);
      return { bucket, key: path === '' ? undefined : decodePathPart(path) };
    }
  }
  if (path === '') return {};
  const slash = path.indexOf('/');
  if (slash < 0) return { bucket: decodePathPart(path) };
  const bucket = decodePathPart(path.slice(0, slash));
  const key = path.slice(slash + 1);
  return { bucket, key: key === '' ? undefined : decodePathPart(key) };
}

function intParam(q: URLSearchParams, name: string, dflt: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  if (!/^-?\d+$/.test(v))
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, {
      ArgumentName: name,
      ArgumentValue: v,
    });
  const n = Number(v);
  if (n < 0)
    throw new S3Error('InvalidArgument', `Argument ${name} must be an integer between 0 and 2147483647`, {
      ArgumentName: name,
      ArgumentValue: v,
    });
  return Math.min(n, max);
}

function encodingType(q: URLSearchParams): 'url' | undefined {
  const v = q.get('encoding-type');
  if (v === null) return undefined;
  if (v.toLowerCase() !== 'url')
    throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', {
      ArgumentName: 'encoding-type',
      ArgumentValue: v,
    });
  return 'url';
}

function optional(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  return v === null || v === '' ? undefined : v;
}

function partNumber(q: URLSearchParams): number {
  const v = q.get('partNumber') ?? '';
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 10000) {
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {
      ArgumentName: 'partNumber',
      ArgumentValue: v,
    });
  }
  return Number(v);
}

/** x-amz-copy-source: `bucket/key[?versionId=id]`, percent-encoded, optional leading slash. */
export function parseCopySource(raw: string): ObjectRef {
  let s = raw.startsWith('/') ? raw.slice(1) : raw;
  let versionId: string | undefined;
  const qi = s.indexOf('?');
  if (qi >= 0) {
    const q = new URLSearchParams(s.slice(qi + 1));
    versionId = q.get('versionId') ?? undefined;
    s = s.slice(0, qi);
  }
  const slash = s.indexOf('/');
  if (slash <= 0 || slash === s.length - 1)
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', {
      ArgumentName: 'x-amz-copy-source',
      ArgumentValue: raw,
    });
  return { bucket: decodePathPart(s.slice(0, slash)), key: decodePathPart(s.slice(slash + 1)), versionId };
}

/** What a listen asks for: event types, and a prefix and suffix of the keys. */
function listenParams(q: URLSearchParams): { events: string[]; prefix: string; suffix: string } {
  return { events: q.getAll('events'), prefix: q.get('prefix') ?? '', suffix: q.get('suffix') ?? '' };
}

function firstSub(q: URLSearchParams, names: readonly string[]): string | undefined {
  return names.find((n) => q.has(n));
}

export function route(input: RouteInput): Route {
  const method = input.method.toUpperCase();
  const q = input.query;
  const { bucket, key } = locate(input);

  // MinIO's admin API, path-style only: /minio/admin/v3/<path> (the bucket name "minio" is MinIO's reserved one).
  if (input.path.startsWith('/minio/admin/') && bucket === 'minio' && key?.startsWith('admin/')) {
    const v3 = key.startsWith('admin/v3/') ? key.slice('admin/v3/'.length) : '';
    if (v3 === '') throw new S3Error('InvalidRequest', 'Only version 3 of the admin API is served');
    return { op: { name: 'AdminApi', action: '', path: v3, method } };
  }

  if (method === 'OPTIONS') {
    if (bucket === undefined) throw new S3Error('MethodNotAllowed');
    return { bucket, key, op: { name: 'Preflight', action: '', bucket, key } };
  }

  if (bucket === undefined) {
    if (method === 'GET') {
      const unsupported = firstSub(q, Object.keys(UNSUPPORTED_SERVICE));
      if (unsupported)
        return { op: { name: 'UnsupportedServiceOp', parameter: unsupported, ...UNSUPPORTED_SERVICE[unsupported] } };
      // MinIO's ListenNotification (`mc watch ALIAS`, minio-go ListenNotification): every bucket's events.
      if (q.has('events'))
        return { op: { name: 'ListenNotification', action: 's3:ListenNotification', params: listenParams(q) } };
      const params = {
        prefix: q.get('prefix') ?? '',
        maxBuckets: intParam(q, 'max-buckets', 10000, 10000),
        continuationToken: optional(q, 'continuation-token'),
        bucketRegion: optional(q, 'bucket-region'),
      };
      if (q.has('max-buckets') && params.maxBuckets < 1)
        throw new S3Error('InvalidArgument', 'Argument max-buckets must be an integer between 1 and 10000', {
          ArgumentName: 'max-buckets',
        });
      return { op: { name: 'ListBuckets', action: 's3:ListAllMyBuckets', params } };
    }
    // IAM and STS: a form POST to the service root (S3 has no POST there).
    if (method === 'POST') return { op: { name: 'ServiceQuery', action: '' } };
    throw new S3Error('MethodNotAllowed');
  }
  if (key === undefined) return { bucket, op: bucketOp(method, bucket, q, input.headers) };
  const op = objectOp(method, bucket, key, q, input.headers);
  // A replication request (another site writing its replica) needs s3:ReplicateObject / s3:ReplicateDelete.
  const replicating = header(input.headers, REPLICATION_REQUEST) !== undefined && replicationAction(op.name);
  return { bucket, key, op: replicating ? { ...op, action: replicating } : op };
}

function bucketOp(method: string, bucket: string, q: URLSearchParams, headers: RouteInput['headers']): Operation {
  const b = { bucket };
  const unsupported = firstSub(q, UNSUPPORTED_BUCKET);
  if (unsupported) return { name: 'UnsupportedBucketOp', action: 's3:*', ...b, subresource: unsupported, method };
  const verb = method === 'GET' ? 'Get' : 'Put';
  if (q.has('publicAccessBlock'))
    return { name: 'PublicAccessBlock', action: `s3:${verb}BucketPublicAccessBlock`, ...b, method };
  if (q.has('ownershipControls'))
    return { name: 'OwnershipControls', action: `s3:${verb}BucketOwnershipControls`, ...b, method };
  if (q.has('abac')) {
    if (method !== 'GET' && method !== 'PUT') throw new S3Error('MethodNotAllowed');
    return { name: 'BucketAbac', action: `s3:${verb}BucketAbac`, ...b, method };
  }
  if (q.has('notification')) {
    if (method !== 'GET' && method !== 'PUT') throw new S3Error('MethodNotAllowed');
    return { name: `${verb}BucketNotificationConfiguration`, action: `s3:${verb}BucketNotification`, ...b };
  }
  // DeleteBucketLifecycle needs s3:PutLifecycleConfiguration, as in AWS (there is no delete permission).
  if (q.has('lifecycle')) {
    if (method === 'GET')
      return { name: 'GetBucketLifecycleConfiguration', action: 's3:GetLifecycleConfiguration', ...b };
    if (method === 'PUT')
      return { name: 'PutBucketLifecycleConfiguration', action: 's3:PutLifecycleConfiguration', ...b };
    if (method === 'DELETE') return { name: 'DeleteBucketLifecycle', action: 's3:PutLifecycleConfiguration', ...b };
    throw new S3Error('MethodNotAllowed');
  }
  // MinIO's replication resync (api/replication/resync.ts).
  if (q.has('replication-reset')) {
    if (method !== 'PUT') throw new S3Error('MethodNotAllowed');
    return { name: 'ResetBucketReplication', action: 's3:ResetBucketReplicationState', ...b };
  }
  if (q.has('replication-reset-status')) {
    if (method !== 'GET') throw new S3Error('MethodNotAllowed');
    return { name: 'GetBucketReplicationResyncStatus', action: 's3:ResetBucketReplicationState', ...b };
  }
  // DeleteBucketReplication needs s3:PutReplicationConfiguration, as in AWS.
  if (q.has('replication')) {
    if (method === 'GET') return { name: 'GetBucketReplication', action: 's3:GetReplicationConfiguration', ...b };
    if (method === 'PUT') return { name: 'PutBucketReplication', action: 's3:PutReplicationConfiguration', ...b };
    if (method === 'DELETE') return { name: 'DeleteBucketReplication', action: 's3:PutReplicationConfiguration', ...b };
    throw new S3Error('MethodNotAllowed');
  }
  if (q.has('object-lock')) {
    if (method !== 'GET' && method !== 'PUT') throw new S3Error('MethodNotAllowed');
    return { name: `${verb}ObjectLockConfiguration`, action: `s3:${verb}BucketObjectLockConfiguration`, ...b };
  }
  switch (method) {
    case 'PUT':
      if (q.has('versioning')) return { name: 'PutBucketVersioning', action: 's3:PutBucketVersioning', ...b };
      if (q.has('tagging')) return { name: 'PutBucketTagging', action: 's3:PutBucketTagging', ...b };
      if (q.has('encryption')) return { name: 'PutBucketEncryption', action: 's3:PutEncryptionConfiguration', ...b };
      if (q.has('cors')) return { name: 'PutBucketCors', action: 's3:PutBucketCORS', ...b };
      if (q.has('policy')) return { name: 'PutBucketPolicy', action: 's3:PutBucketPolicy', ...b };
      if (q.has('acl')) return { name: 'PutBucketAcl', action: 's3:PutBucketAcl', ...b };
      return { name: 'CreateBucket', action: 's3:CreateBucket', ...b };
    case 'GET':
      if (q.has('events')) {
        return {
          name: 'ListenBucketNotification',
          action: 's3:ListenBucketNotification',
          ...b,
          params: listenParams(q),
        };
      }
      if (q.has('location')) return { name: 'GetBucketLocation', action: 's3:GetBucketLocation', ...b };
      if (q.has('versioning')) return { name: 'GetBucketVersioning', action: 's3:GetBucketVersioning', ...b };
      if (q.has('tagging')) return { name: 'GetBucketTagging', action: 's3:GetBucketTagging', ...b };
      if (q.has('encryption')) return { name: 'GetBucketEncryption', action: 's3:GetEncryptionConfiguration', ...b };
      if (q.has('cors')) return { name: 'GetBucketCors', action: 's3:GetBucketCORS', ...b };
      if (q.has('policyStatus')) return { name: 'GetBucketPolicyStatus', action: 's3:GetBucketPolicyStatus', ...b };
      if (q.has('policy')) return { name: 'GetBucketPolicy', action: 's3:GetBucketPolicy', ...b };
      if (q.has('acl')) return { name: 'GetBucketAcl', action: 's3:GetBucketAcl', ...b };
      if (q.has('uploads')) {
        return {
          name: 'ListMultipartUploads',
          action: 's3:ListBucketMultipartUploads',
          ...b,
          params: {
            prefix: q.get('prefix') ?? '',
            delimiter: optional(q, 'delimiter'),
            keyMarker: q.get('key-marker') ?? '',
            uploadIdMarker: optional(q, 'upload-id-marker'),
            maxUploads: intParam(q, 'max-uploads', MAX_KEYS, MAX_KEYS),
            encodingType: encodingType(q),
          },
        };
      }
      if (q.has('versions')) {
        return {
          name: 'ListObjectVersions',
          action: 's3:ListBucketVersions',
          ...b,
          params: {
            prefix: q.get('prefix') ?? '',
            delimiter: optional(q, 'delimiter'),
            keyMarker: q.get('key-marker') ?? '',
            versionIdMarker: optional(q, 'version-id-marker'),
            maxKeys: intParam(q, 'max-keys', MAX_KEYS, MAX_KEYS),
            encodingType: encodingType(q),
          },
        };
      }
      if (q.get('list-type') === '2') {
        const params: ListV2Params = {
          prefix: q.get('prefix') ?? '',
          delimiter: optional(q, 'delimiter'),
          startAfter: q.get('start-after') ?? '',
          continuationToken: q.has('continuation-token') ? (q.get('continuation-token') ?? '') : undefined,
          maxKeys: intParam(q, 'max-keys', MAX_KEYS, MAX_KEYS),
          encodingType: encodingType(q),
          fetchOwner: q.get('fetch-owner') === 'true',
        };
        return { name: 'ListObjectsV2', action: 's3:ListBucket', ...b, params };
      }
      {
        const params: ListV1Params = {
          prefix: q.get('prefix') ?? '',
          delimiter: optional(q, 'delimiter'),
          marker: q.get('marker') ?? '',
          maxKeys: intParam(q, 'max-keys', MAX_KEYS, MAX_KEYS),
          encodingType: encodingType(q),
        };
        return { name: 'ListObjectsV1', action: 's3:ListBucket', ...b, params };
      }
    case 'HEAD':
      return { name: 'HeadBucket', action: 's3:ListBucket', ...b };
    case 'DELETE':
      if (q.has('tagging')) return { name: 'DeleteBucketTagging', action: 's3:PutBucketTagging', ...b };
      if (q.has('encryption')) return { name: 'DeleteBucketEncryption', action: 's3:PutEncryptionConfiguration', ...b };
      if (q.has('cors')) return { name: 'DeleteBucketCors', action: 's3:PutBucketCORS', ...b };
      if (q.has('policy')) return { name: 'DeleteBucketPolicy', action: 's3:DeleteBucketPolicy', ...b };
      return { name: 'DeleteBucket', action: 's3:DeleteBucket', ...b };
    case 'POST': {
      if (q.has('delete')) return { name: 'DeleteObjects', action: 's3:DeleteObject', ...b };
      const ct = header(headers, 'content-type') ?? '';
      if (ct.toLowerCase().startsWith('multipart/form-data'))
        return { name: 'PostObject', action: 's3:PutObject', ...b };
      throw new S3Error('MethodNotAllowed');
    }
    default:
      throw new S3Error('MethodNotAllowed');
  }
}

function objectOp(
  method: string,
  bucket: string,
  key: string,
  q: URLSearchParams,
  headers: RouteInput['headers'],
): Operation {
  const versionId = optional(q, 'versionId');
  const o = { bucket, key, versionId };
  const unsupported = firstSub(q, UNSUPPORTED_OBJECT);
  if (unsupported) return { name: 'UnsupportedObjectOp', action: 's3:*', ...o, subresource: unsupported, method };
  const lockSub = q.has('retention') ? 'Retention' : q.has('legal-hold') ? 'LegalHold' : undefined;
  if (lockSub) {
    if (method !== 'GET' && method !== 'PUT') throw new S3Error('MethodNotAllowed');
    const verb = method === 'GET' ? 'Get' : 'Put';
    return { name: `${verb}Object${lockSub}`, action: `s3:${verb}Object${lockSub}`, ...o };
  }
  const copySource = header(headers, 'x-amz-copy-source');
  switch (method) {
    case 'PUT':
      if (q.has('tagging'))
        return {
          name: 'PutObjectTagging',
          action: versionId ? 's3:PutObjectVersionTagging' : 's3:PutObjectTagging',
          ...o,
        };
      if (q.has('acl')) return { name: 'PutObjectAcl', action: 's3:PutObjectAcl', ...o };
      if (q.has('uploadId') || q.has('partNumber')) {
        const uploadId = q.get('uploadId') ?? '';
        const pn = partNumber(q);
        if (copySource !== undefined)
          return {
            name: 'UploadPartCopy',
            action: 's3:PutObject',
            ...o,
            uploadId,
            partNumber: pn,
            source: parseCopySource(copySource),
          };
        return { name: 'UploadPart', action: 's3:PutObject', ...o, uploadId, partNumber: pn };
      }
      if (copySource !== undefined)
        return { name: 'CopyObject', action: 's3:PutObject', ...o, source: parseCopySource(copySource) };
      return { name: 'PutObject', action: 's3:PutObject', ...o };
    case 'GET':
    case 'HEAD': {
      if (method === 'GET') {
        if (q.has('tagging'))
          return {
            name: 'GetObjectTagging',
            action: versionId ? 's3:GetObjectVersionTagging' : 's3:GetObjectTagging',
            ...o,
          };
        if (q.has('acl')) return { name: 'GetObjectAcl', action: 's3:GetObjectAcl', ...o };
        if (q.has('attributes'))
          return {
            name: 'GetObjectAttributes',
            action: versionId ? 's3:GetObjectVersionAttributes' : 's3:GetObjectAttributes',
            ...o,
          };
        if (q.has('uploadId')) {
          return {
            name: 'ListParts',
            action: 's3:ListMultipartUploadParts',
            ...o,
            uploadId: q.get('uploadId') ?? '',
            partNumberMarker: q.has('part-number-marker') ? intParam(q, 'part-number-marker', 0) : undefined,
            maxParts: intParam(q, 'max-parts', MAX_KEYS, MAX_KEYS),
          };
        }
      }
      const pn = q.has('partNumber') ? partNumber(q) : undefined;
      const action = versionId ? 's3:GetObjectVersion' : 's3:GetObject';
      return method === 'GET'
        ? { name: 'GetObject', action, ...o, partNumber: pn }
        : { name: 'HeadObject', action, ...o, partNumber: pn };
    }
    case 'DELETE':
      if (q.has('tagging'))
        return {
          name: 'DeleteObjectTagging',
          action: versionId ? 's3:DeleteObjectVersionTagging' : 's3:DeleteObjectTagging',
          ...o,
        };
      if (q.has('uploadId'))
        return {
          name: 'AbortMultipartUpload',
          action: 's3:AbortMultipartUpload',
          ...o,
          uploadId: q.get('uploadId') ?? '',
        };
      return { name: 'DeleteObject', action: versionId ? 's3:DeleteObjectVersion' : 's3:DeleteObject', ...o };
    case 'POST':
      if (q.has('uploads')) return { name: 'CreateMultipartUpload', action: 's3:PutObject', ...o };
      if (q.has('uploadId'))
        return { name: 'CompleteMultipartUpload', action: 's3:PutObject', ...o, uploadId: q.get('uploadId') ?? '' };
      if (q.has('select')) return { name: 'SelectObjectContent', action: 's3:GetObject', ...o };
      throw new S3Error('MethodNotAllowed');
    default:
      throw new S3Error('MethodNotAllowed');
  }
}
