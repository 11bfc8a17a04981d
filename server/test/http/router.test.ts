import { describe, expect, it } from 'vitest';
import { route, parseCopySource } from '../../src/http/router.js';
import { S3Error } from '../../src/errors.js';

function r(method: string, url: string, headers: Record<string, string> = {}, domains: string[] = []) {
  const i = url.indexOf('?');
  const path = i < 0 ? url : url.slice(0, i);
  const query = new URLSearchParams(i < 0 ? '' : url.slice(i + 1));
  return route({ method, path, query, headers: { host: 'localhost:9000', ...headers }, domains });
}

describe('router', () => {
  const table: [string, string, string, string, Record<string, string>?][] = [
    ['GET', '/', 'ListBuckets', 's3:ListAllMyBuckets'],
    ['GET', '/?x-id=ListBuckets&max-buckets=5&prefix=a&bucket-region=us-east-1', 'ListBuckets', 's3:ListAllMyBuckets'],
    ['GET', '/?events=s3:ObjectCreated:*&ping=10', 'ListenNotification', 's3:ListenNotification'],
    ['GET', '/?max-directory-buckets=10', 'UnsupportedServiceOp', 's3express:ListAllMyDirectoryBuckets'],
    ['PUT', '/b', 'CreateBucket', 's3:CreateBucket'],
    ['HEAD', '/b', 'HeadBucket', 's3:ListBucket'],
    ['DELETE', '/b', 'DeleteBucket', 's3:DeleteBucket'],
    ['GET', '/b?location', 'GetBucketLocation', 's3:GetBucketLocation'],
    ['GET', '/b?versioning', 'GetBucketVersioning', 's3:GetBucketVersioning'],
    ['PUT', '/b?versioning', 'PutBucketVersioning', 's3:PutBucketVersioning'],
    ['GET', '/b?tagging', 'GetBucketTagging', 's3:GetBucketTagging'],
    ['PUT', '/b?tagging', 'PutBucketTagging', 's3:PutBucketTagging'],
    ['DELETE', '/b?tagging', 'DeleteBucketTagging', 's3:PutBucketTagging'],
    ['GET', '/b?cors', 'GetBucketCors', 's3:GetBucketCORS'],
    ['PUT', '/b?cors', 'PutBucketCors', 's3:PutBucketCORS'],
    ['DELETE', '/b?cors', 'DeleteBucketCors', 's3:PutBucketCORS'],
    ['GET', '/b?policy', 'GetBucketPolicy', 's3:GetBucketPolicy'],
    ['PUT', '/b?policy', 'PutBucketPolicy', 's3:PutBucketPolicy'],
    ['DELETE', '/b?policy', 'DeleteBucketPolicy', 's3:DeleteBucketPolicy'],
    ['GET', '/b?policyStatus', 'GetBucketPolicyStatus', 's3:GetBucketPolicyStatus'],
    ['GET', '/b', 'ListObjectsV1', 's3:ListBucket'],
    ['GET', '/b?list-type=2', 'ListObjectsV2', 's3:ListBucket'],
    ['GET', '/b?versions', 'ListObjectVersions', 's3:ListBucketVersions'],
    ['GET', '/b?uploads', 'ListMultipartUploads', 's3:ListBucketMultipartUploads'],
    ['POST', '/b?delete', 'DeleteObjects', 's3:DeleteObject'],
    ['POST', '/b', 'PostObject', 's3:PutObject', { 'content-type': 'multipart/form-data; boundary=x' }],
    ['GET', '/b?lifecycle', 'GetBucketLifecycleConfiguration', 's3:GetLifecycleConfiguration'],
    ['PUT', '/b?lifecycle', 'PutBucketLifecycleConfiguration', 's3:PutLifecycleConfiguration'],
    ['DELETE', '/b?lifecycle', 'DeleteBucketLifecycle', 's3:PutLifecycleConfiguration'],
    ['GET', '/b?replication', 'GetBucketReplication', 's3:GetReplicationConfiguration'],
    ['PUT', '/b?replication', 'PutBucketReplication', 's3:PutReplicationConfiguration'],
    ['DELETE', '/b?replication', 'DeleteBucketReplication', 's3:PutReplicationConfiguration'],
    ['PUT', '/b?replication-reset&arn=x', 'ResetBucketReplication', 's3:ResetBucketReplicationState'],
    ['GET', '/b?replication-reset-status', 'GetBucketReplicationResyncStatus', 's3:ResetBucketReplicationState'],
    ['PUT', '/b/k?versionId=v', 'PutObject', 's3:ReplicateObject', { 'x-minio-source-replication-request': 'true' }],
    [
      'DELETE',
      '/b/k?versionId=v',
      'DeleteObject',
      's3:ReplicateDelete',
      { 'x-minio-source-replication-request': 'true' },
    ],
    ['GET', '/b/k', 'GetObject', 's3:GetObject', { 'x-minio-source-replication-request': 'true' }],
    // A replica's tags, retention and legal hold set as the source's changed (metadata replication).
    [
      'PUT',
      '/b/k?tagging&versionId=v',
      'PutObjectTagging',
      's3:ReplicateTags',
      { 'x-minio-source-replication-request': 'true' },
    ],
    [
      'DELETE',
      '/b/k?tagging&versionId=v',
      'DeleteObjectTagging',
      's3:ReplicateTags',
      { 'x-minio-source-replication-request': 'true' },
    ],
    [
      'PUT',
      '/b/k?retention&versionId=v',
      'PutObjectRetention',
      's3:ReplicateObject',
      { 'x-minio-source-replication-request': 'true' },
    ],
    [
      'PUT',
      '/b/k?legal-hold&versionId=v',
      'PutObjectLegalHold',
      's3:ReplicateObject',
      { 'x-minio-source-replication-request': 'true' },
    ],
    ['GET', '/b?object-lock', 'GetObjectLockConfiguration', 's3:GetBucketObjectLockConfiguration'],
    ['PUT', '/b?object-lock', 'PutObjectLockConfiguration', 's3:PutBucketObjectLockConfiguration'],
    ['GET', '/b?notification', 'GetBucketNotificationConfiguration', 's3:GetBucketNotification'],
    ['PUT', '/b?notification', 'PutBucketNotificationConfiguration', 's3:PutBucketNotification'],
    ['GET', '/b?events=s3:ObjectCreated:*&prefix=a/', 'ListenBucketNotification', 's3:ListenBucketNotification'],
    ['GET', '/b/k?retention', 'GetObjectRetention', 's3:GetObjectRetention'],
    ['PUT', '/b/k?retention&versionId=v1', 'PutObjectRetention', 's3:PutObjectRetention'],
    ['GET', '/b/k?legal-hold', 'GetObjectLegalHold', 's3:GetObjectLegalHold'],
    ['PUT', '/b/k?legal-hold', 'PutObjectLegalHold', 's3:PutObjectLegalHold'],
    ['PUT', '/b/k', 'PutObject', 's3:PutObject'],
    ['PUT', '/b/k', 'CopyObject', 's3:PutObject', { 'x-amz-copy-source': '/src/a%20b' }],
    ['GET', '/b/k', 'GetObject', 's3:GetObject'],
    ['GET', '/b/k?versionId=v1', 'GetObject', 's3:GetObjectVersion'],
    ['HEAD', '/b/k', 'HeadObject', 's3:GetObject'],
    ['DELETE', '/b/k', 'DeleteObject', 's3:DeleteObject'],
    ['DELETE', '/b/k?versionId=v1', 'DeleteObject', 's3:DeleteObjectVersion'],
    ['GET', '/b/k?tagging', 'GetObjectTagging', 's3:GetObjectTagging'],
    ['PUT', '/b/k?tagging', 'PutObjectTagging', 's3:PutObjectTagging'],
    ['DELETE', '/b/k?tagging', 'DeleteObjectTagging', 's3:DeleteObjectTagging'],
    ['GET', '/b/k?attributes', 'GetObjectAttributes', 's3:GetObjectAttributes'],
    ['POST', '/b/k?uploads', 'CreateMultipartUpload', 's3:PutObject'],
    ['PUT', '/b/k?partNumber=3&uploadId=u', 'UploadPart', 's3:PutObject'],
    ['PUT', '/b/k?partNumber=3&uploadId=u', 'UploadPartCopy', 's3:PutObject', { 'x-amz-copy-source': 'src/k2' }],
    ['POST', '/b/k?uploadId=u', 'CompleteMultipartUpload', 's3:PutObject'],
    ['DELETE', '/b/k?uploadId=u', 'AbortMultipartUpload', 's3:AbortMultipartUpload'],
    ['GET', '/b/k?uploadId=u', 'ListParts', 's3:ListMultipartUploadParts'],
    ['POST', '/b/k?select&select-type=2', 'SelectObjectContent', 's3:GetObject'],
    ['OPTIONS', '/b/k', 'Preflight', ''],
  ];
  it.each(table)('%s %s -> %s', (method, url, name, action, headers) => {
    const { op } = r(method, url, headers);
    expect(op.name).toBe(name);
    expect(op.action).toBe(action);
  });

  it('decodes keys and keeps slashes, unicode and trailing slashes', () => {
    expect(r('GET', '/b/a%2Fb/c%20d/').key).toBe('a/b/c d/');
    expect(r('GET', '/b/%E2%9C%93').key).toBe('✓');
    expect(r('GET', '/b//double').key).toBe('/double');
  });

  it('parses list parameters', () => {
    const { op } = r(
      'GET',
      '/b?list-type=2&prefix=p%2F&delimiter=%2F&max-keys=5000&start-after=x&continuation-token=t&fetch-owner=true&encoding-type=url',
    );
    expect(op).toMatchObject({
      name: 'ListObjectsV2',
      params: {
        prefix: 'p/',
        delimiter: '/',
        maxKeys: 1000,
        startAfter: 'x',
        continuationToken: 't',
        fetchOwner: true,
        encodingType: 'url',
      },
    });
  });

  it('parses upload part parameters', () => {
    expect(r('PUT', '/b/k?partNumber=7&uploadId=abc').op).toMatchObject({ uploadId: 'abc', partNumber: 7 });
    expect(r('PUT', '/b/k?partNumber=2&uploadId=u', { 'x-amz-copy-source': '/s/k%3Fx?versionId=v9' }).op).toMatchObject(
      { source: { bucket: 's', key: 'k?x', versionId: 'v9' } },
    );
  });

  it('virtual-host style when a domain is configured', () => {
    const res = r('GET', '/dir/file.txt', { host: 'mybucket.s3.local:9000' }, ['s3.local']);
    expect(res).toMatchObject({ bucket: 'mybucket', key: 'dir/file.txt', op: { name: 'GetObject' } });
    expect(r('GET', '/', { host: 'mybucket.s3.local' }, ['s3.local']).op.name).toBe('ListObjectsV1');
    expect(r('GET', '/', { host: 's3.local' }, ['s3.local']).op.name).toBe('ListBuckets');
  });

  const bad: [string, string, string, Record<string, string>?][] = [
    ['PUT', '/b/k?partNumber=0&uploadId=u', 'InvalidArgument'],
    ['PUT', '/b/k?partNumber=10001&uploadId=u', 'InvalidArgument'],
    ['GET', '/b?max-keys=abc', 'InvalidArgument'],
    ['GET', '/b?max-keys=-1', 'InvalidArgument'],
    ['GET', '/b?encoding-type=xml', 'InvalidArgument'],
    ['GET', '/b/%E0%A4%A', 'InvalidURI'],
    ['PUT', '/', 'MethodNotAllowed'],
    ['PATCH', '/b/k', 'MethodNotAllowed'],
    ['POST', '/b', 'MethodNotAllowed'],
    ['DELETE', '/b?object-lock', 'MethodNotAllowed'],
    ['DELETE', '/b?notification', 'MethodNotAllowed'],
    ['POST', '/b?lifecycle', 'MethodNotAllowed'],
    ['DELETE', '/b/k?retention', 'MethodNotAllowed'],
    ['PUT', '/b/k', 'InvalidArgument', { 'x-amz-copy-source': 'nokey' }],
  ];
  it.each(bad)('%s %s -> %s', (method, url, code, headers) => {
    let err: unknown;
    try {
      r(method, url, headers);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(S3Error);
    expect((err as S3Error).code).toBe(code);
  });

  it('copy source forms', () => {
    expect(parseCopySource('b/k')).toEqual({ bucket: 'b', key: 'k', versionId: undefined });
    expect(parseCopySource('/b/a%2Bb+c')).toEqual({ bucket: 'b', key: 'a+b+c', versionId: undefined });
  });
});
