// "Never accept what is ignored": a request asking for a behaviour or a protection Cairn does not provide
// (encryption, website redirects, appends, MinIO's extensions) is refused with NotImplemented
// before anything is read or stored, rather than succeeding without it: an application that believes its
// objects are locked or encrypted must learn that they are not. README.md lists what is refused here;
// the features themselves have their own issues. Request bodies with such elements are refused where they
// are parsed (bucket.ts, delete.ts, put-input.ts for checksum algorithms).
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors.js';
import type { Operation, OperationName } from './operation.js';

interface Refusal {
  /** What the header asks for, for the error message. */
  what: string;
  /** Values that ask for nothing (an explicit "off") are accepted. */
  harmless?: (value: string) => boolean;
  /** Operations that honour the header (their handlers read it), so it is not refused for them. */
  honouredBy?: ReadonlySet<Operation['name']>;
}

const isFalse = (v: string): boolean => v.trim().toLowerCase() === 'false';
/** Operations a replication request may be (api/replication/receive.ts). */
const REPLICA_PUTS = new Set<OperationName>(['PutObject', 'CreateMultipartUpload']);
const REPLICA_WRITES = new Set<OperationName>([...REPLICA_PUTS, 'CompleteMultipartUpload', 'DeleteObject']);
/** Requests setting a replica's tags, retention or legal hold as its source changed them. */
const REPLICA_METADATA = new Set<OperationName>([
  'PutObjectTagging',
  'DeleteObjectTagging',
  'PutObjectRetention',
  'PutObjectLegalHold',
]);
/** Operations that create a version and so can give it an object lock. */
const NEW_VERSION = new Set<OperationName>(['PutObject', 'CopyObject', 'CreateMultipartUpload']);

/** SSE-S3's and SSE-KMS's headers describe writes: on reads S3 answers 400 InvalidArgument, as here. */
const WRITE_ENCRYPTION = new Set([
  'x-amz-server-side-encryption',
  'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-server-side-encryption-context',
]);
const READS = new Set<OperationName>(['GetObject', 'HeadObject']);

/** Exact header names. */
const HEADERS: Record<string, Refusal> = {
  'x-amz-bucket-object-lock-enabled': {
    what: 'Object lock',
    harmless: isFalse,
    honouredBy: new Set<OperationName>(['CreateBucket']),
  },
  'x-amz-object-lock-mode': { what: 'Object lock', honouredBy: NEW_VERSION },
  'x-amz-object-lock-retain-until-date': { what: 'Object lock', honouredBy: NEW_VERSION },
  'x-amz-object-lock-legal-hold': {
    what: 'Object lock legal hold',
    harmless: (v) => v.trim().toUpperCase() === 'OFF',
    honouredBy: NEW_VERSION,
  },
  // SSE-S3 (AES256) and SSE-KMS (aws:kms, key id, context) on writes (api/sse; refused there without a KMS).
  // UploadPart, CompleteMultipartUpload: checked against the upload's (sse/index.ts checkPartEncryption).
  'x-amz-server-side-encryption': {
    what: 'Server-side encryption',
    honouredBy: new Set(['PutObject', 'CopyObject', 'CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload']),
  },
  'x-amz-server-side-encryption-aws-kms-key-id': {
    what: 'Server-side encryption with KMS keys',
    honouredBy: new Set(['PutObject', 'CopyObject', 'CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload']),
  },
  'x-amz-server-side-encryption-context': {
    what: 'Server-side encryption with KMS keys',
    honouredBy: new Set(['PutObject', 'CopyObject', 'CreateMultipartUpload']),
  },
  // MinIO's replication requests (api/replication/receive.ts checks them; the timestamps of a source's tags,
  // retention and legal hold only order metadata updates, which replicas receive whole).
  'x-minio-source-replication-request': {
    what: 'Replication',
    honouredBy: new Set([...REPLICA_WRITES, ...REPLICA_METADATA]),
  },
  'x-minio-source-mtime': { what: 'Replication', honouredBy: REPLICA_WRITES },
  'x-minio-source-etag': { what: 'Replication', honouredBy: REPLICA_WRITES },
  'x-minio-source-deletemarker': { what: 'Replication', honouredBy: new Set<OperationName>(['DeleteObject']) },
  'x-minio-source-replication-tagging-timestamp': { what: 'Replication', honouredBy: REPLICA_PUTS },
  'x-minio-source-replication-retention-timestamp': { what: 'Replication', honouredBy: REPLICA_PUTS },
  'x-minio-source-replication-legalhold-timestamp': { what: 'Replication', honouredBy: REPLICA_PUTS },
  'x-amz-replication-status': { what: 'Replication', honouredBy: REPLICA_WRITES },
  'x-amz-website-redirect-location': { what: 'Website redirects' },
  'x-amz-write-offset-bytes': { what: 'Appending to an object' },
  'x-amz-if-match-last-modified-time': { what: 'Conditional deletes on the modification time' },
  'x-amz-if-match-size': { what: 'Conditional deletes on the size' },
  'x-amz-if-match-initiated-time': { what: 'Conditional aborts of multipart uploads' },
  // minio-py's snowball upload asks MinIO to unpack a tar into objects; stored as it is, it would be one object.
  'x-amz-meta-snowball-auto-extract': { what: 'Extracting uploaded archives (MinIO snowball)', harmless: isFalse },
};

/** Header name prefixes. */
const PREFIXES: [prefix: string, refusal: Refusal][] = [
  // SSE-C (api/sse), for the object and for a copy's source.
  [
    'x-amz-server-side-encryption-customer-',
    {
      what: 'Server-side encryption with customer keys (SSE-C) for this operation',
      honouredBy: new Set([
        'PutObject',
        'GetObject',
        'HeadObject',
        'GetObjectAttributes',
        'SelectObjectContent',
        'CopyObject',
        'CreateMultipartUpload',
        'UploadPart',
        'UploadPartCopy',
        'CompleteMultipartUpload',
      ]),
    },
  ],
  [
    'x-amz-copy-source-server-side-encryption-customer-',
    { what: 'SSE-C of a copy source', honouredBy: new Set(['CopyObject', 'UploadPartCopy']) },
  ],
  // SSE-KMS's bucket key and any other server-side encryption header.
  ['x-amz-server-side-encryption', { what: 'Server-side encryption' }],
  ['x-amz-copy-source-server-side-encryption', { what: 'Server-side encryption (SSE-C) of the copy source' }],
  // MinIO's own extensions (force delete, force create, replication, extraction, ...).
  ['x-minio-', { what: 'MinIO extension header' }],
];

function refusalOf(name: string): Refusal | undefined {
  return HEADERS[name] ?? PREFIXES.find(([prefix]) => name.startsWith(prefix))?.[1];
}

/** Throws NotImplemented when a header asks for something Cairn does not do. Preflights carry no such asks. */
export function refuseUnimplemented(op: Operation, headers: IncomingHttpHeaders): void {
  if (op.name === 'Preflight') return;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || !(name.startsWith('x-amz-') || name.startsWith('x-minio-'))) continue;
    const refusal = refusalOf(name);
    if (!refusal) continue;
    const values = Array.isArray(value) ? value : [value];
    if (refusal.harmless && values.every(refusal.harmless)) continue;
    if (refusal.honouredBy?.has(op.name)) continue;
    if (READS.has(op.name) && WRITE_ENCRYPTION.has(name)) {
      throw new S3Error('InvalidArgument', `The ${name} header is not supported for this operation.`, {
        ArgumentName: name,
      });
    }
    throw new S3Error('NotImplemented', `${refusal.what} is not implemented: ${name} cannot be honoured.`, {
      Header: name,
    });
  }
}
