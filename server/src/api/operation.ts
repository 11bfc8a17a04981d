// Every S3 operation Cairn answers, as one discriminated union. The router (router.ts) turns a request into
// one of these; handlers switch on `name`. `action` is the IAM-style permission the request needs, checked
// against bucket policies for anonymous callers.

export interface ObjectRef {
  bucket: string;
  key: string;
  versionId?: string;
}

interface Base {
  action: string;
}

type BucketOnly<N extends string> = Base & { name: N; bucket: string };
type ObjectOnly<N extends string> = Base & { name: N; bucket: string; key: string; versionId?: string };

export interface ListBucketsParams {
  prefix: string;
  maxBuckets: number;
  continuationToken?: string;
  /** Only buckets in this region (every bucket is in the server's region). */
  bucketRegion?: string;
}

export interface ListV1Params {
  prefix: string;
  delimiter?: string;
  marker: string;
  maxKeys: number;
  encodingType?: 'url';
}

export interface ListV2Params {
  prefix: string;
  delimiter?: string;
  startAfter: string;
  continuationToken?: string;
  maxKeys: number;
  encodingType?: 'url';
  fetchOwner: boolean;
}

export type Operation =
  | (Base & { name: 'ListBuckets'; params: ListBucketsParams })
  /** A request to the service root asking for something Cairn does not do (`parameter` names the ask). */
  | (Base & { name: 'UnsupportedServiceOp'; parameter: string; what: string })
  /** MinIO's ListenNotification: the events of every bucket as they happen (`GET /?events=`, api/notify/listen.ts). */
  | (Base & { name: 'ListenNotification'; params: { events: string[]; prefix: string; suffix: string } })
  | BucketOnly<'CreateBucket'>
  | BucketOnly<'HeadBucket'>
  | BucketOnly<'DeleteBucket'>
  | BucketOnly<'GetBucketLocation'>
  | BucketOnly<'GetBucketVersioning'>
  | BucketOnly<'PutBucketVersioning'>
  | BucketOnly<'GetBucketTagging'>
  | BucketOnly<'PutBucketTagging'>
  | BucketOnly<'DeleteBucketTagging'>
  | BucketOnly<'GetBucketEncryption'>
  | BucketOnly<'PutBucketEncryption'>
  | BucketOnly<'DeleteBucketEncryption'>
  | BucketOnly<'GetBucketCors'>
  | BucketOnly<'PutBucketCors'>
  | BucketOnly<'DeleteBucketCors'>
  | BucketOnly<'GetBucketPolicy'>
  | BucketOnly<'PutBucketPolicy'>
  | BucketOnly<'DeleteBucketPolicy'>
  | BucketOnly<'GetBucketPolicyStatus'>
  | BucketOnly<'GetBucketAcl'>
  | BucketOnly<'PutBucketAcl'>
  | BucketOnly<'GetObjectLockConfiguration'>
  | BucketOnly<'PutObjectLockConfiguration'>
  | BucketOnly<'GetBucketNotificationConfiguration'>
  | BucketOnly<'PutBucketNotificationConfiguration'>
  /** MinIO's streaming API: the bucket's events as they happen (api/notify/listen.ts). */
  | (BucketOnly<'ListenBucketNotification'> & { params: { events: string[]; prefix: string; suffix: string } })
  | BucketOnly<'GetBucketLifecycleConfiguration'>
  | BucketOnly<'PutBucketLifecycleConfiguration'>
  | BucketOnly<'DeleteBucketLifecycle'>
  | BucketOnly<'GetBucketReplication'>
  | BucketOnly<'PutBucketReplication'>
  | BucketOnly<'DeleteBucketReplication'>
  | BucketOnly<'ResetBucketReplication'>
  | BucketOnly<'GetBucketReplicationResyncStatus'>
  | BucketOnly<'DeleteObjects'>
  | BucketOnly<'PostObject'>
  | (BucketOnly<'ListObjectsV1'> & { params: ListV1Params })
  | (BucketOnly<'ListObjectsV2'> & { params: ListV2Params })
  | (BucketOnly<'ListObjectVersions'> & {
      params: {
        prefix: string;
        delimiter?: string;
        keyMarker: string;
        versionIdMarker?: string;
        maxKeys: number;
        encodingType?: 'url';
      };
    })
  | (BucketOnly<'ListMultipartUploads'> & {
      params: {
        prefix: string;
        delimiter?: string;
        keyMarker: string;
        uploadIdMarker?: string;
        maxUploads: number;
        encodingType?: 'url';
      };
    })
  /** A bucket subresource Cairn knows of but does not implement yet (encryption, replication, ...). */
  | (BucketOnly<'UnsupportedBucketOp'> & { subresource: string; method: string })
  | (BucketOnly<'PublicAccessBlock'> & { method: string })
  | (BucketOnly<'OwnershipControls'> & { method: string })
  | (BucketOnly<'BucketAbac'> & { method: string })
  | (ObjectOnly<'GetObject'> & { partNumber?: number })
  | (ObjectOnly<'HeadObject'> & { partNumber?: number })
  /** `form`: the PutObject a browser's POST form upload amounts to (http/post-object.ts). */
  | (ObjectOnly<'PutObject'> & { form?: boolean })
  | (ObjectOnly<'CopyObject'> & { source: ObjectRef })
  | ObjectOnly<'DeleteObject'>
  | ObjectOnly<'GetObjectTagging'>
  | ObjectOnly<'PutObjectTagging'>
  | ObjectOnly<'DeleteObjectTagging'>
  | ObjectOnly<'GetObjectAttributes'>
  | ObjectOnly<'GetObjectAcl'>
  | ObjectOnly<'PutObjectAcl'>
  | ObjectOnly<'SelectObjectContent'>
  | ObjectOnly<'GetObjectRetention'>
  | ObjectOnly<'PutObjectRetention'>
  | ObjectOnly<'GetObjectLegalHold'>
  | ObjectOnly<'PutObjectLegalHold'>
  | ObjectOnly<'CreateMultipartUpload'>
  | (ObjectOnly<'UploadPart'> & { uploadId: string; partNumber: number })
  | (ObjectOnly<'UploadPartCopy'> & { uploadId: string; partNumber: number; source: ObjectRef })
  | (ObjectOnly<'CompleteMultipartUpload'> & { uploadId: string })
  | (ObjectOnly<'AbortMultipartUpload'> & { uploadId: string })
  | (ObjectOnly<'ListParts'> & { uploadId: string; partNumberMarker?: number; maxParts: number })
  | (ObjectOnly<'UnsupportedObjectOp'> & { subresource: string; method: string })
  /**
   * The AWS IAM and STS query APIs (a form POST to `/`, its Action in the body) and MinIO's admin API
   * (`/minio/admin/v3/<path>`): not S3 operations, answered by api/iam/service.ts. `action` is decided there.
   */
  | (Base & { name: 'ServiceQuery' })
  | (Base & { name: 'AdminApi'; path: string; method: string })
  /** CORS preflight: answered from the bucket's CORS configuration, never authenticated. */
  | (Base & { name: 'Preflight'; bucket: string; key?: string });

export type OperationName = Operation['name'];
