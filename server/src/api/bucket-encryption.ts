// PutBucketEncryption, GetBucketEncryption, DeleteBucketEncryption: a bucket's default encryption of new
// objects. SSE-S3 (AES256) and SSE-KMS (aws:kms, with an optional KMSMasterKeyID) are honoured by api/sse when
// a KMS is configured; dual-layer SSE-KMS and any document Cairn would not apply exactly are refused. Stored as
// JSON in BucketConfig.encryption.
import { S3Error } from '../errors.js';
import { readDocument } from './request-body.js';
import { emptyResponse, xmlResponse, type ApiContext, type S3Request, type S3Response } from './types.js';
import { many, parseXml, str, toXml, type XmlValue } from './xml.js';

interface StoredDefault {
  sseAlgorithm: 'AES256' | 'aws:kms';
  kmsMasterKeyId?: string;
  bucketKeyEnabled?: boolean;
}

export async function putBucketEncryption(ctx: ApiContext, req: S3Request, bucket: string): Promise<S3Response> {
  await ctx.storage.headBucket(bucket);
  const doc = parseXml(await readDocument(req), 'ServerSideEncryptionConfiguration');
  const rules = many(doc.Rule);
  if (rules.length !== 1) throw new S3Error('MalformedXML', 'A server side encryption configuration has one Rule.');
  const rule = rules[0] as Record<string, unknown>;
  const apply = rule.ApplyServerSideEncryptionByDefault as Record<string, unknown> | undefined;
  if (!apply || typeof apply !== 'object') throw new S3Error('MalformedXML');
  const algorithm = str(apply.SSEAlgorithm);
  if (algorithm === 'aws:kms:dsse') {
    throw new S3Error('NotImplemented', 'Dual-layer SSE-KMS default encryption is not implemented.');
  }
  if (algorithm !== 'AES256' && algorithm !== 'aws:kms') {
    throw new S3Error('MalformedXML', 'SSEAlgorithm must be AES256 or aws:kms.');
  }
  const keyId = str(apply.KMSMasterKeyID);
  if (keyId !== undefined && algorithm !== 'aws:kms') {
    throw new S3Error('InvalidArgument', 'A KMSMasterKeyID is allowed only with the aws:kms algorithm.', {
      ArgumentName: 'KMSMasterKeyID',
    });
  }
  const bucketKey = str(rule.BucketKeyEnabled);
  if (bucketKey !== undefined && bucketKey !== 'true' && bucketKey !== 'false') throw new S3Error('MalformedXML');
  // Without a KMS every write would fail: refused now rather than then (MinIO does the same).
  if (!ctx.sse?.kms) {
    throw new S3Error(
      'NotImplemented',
      'Server side encryption specified but KMS is not configured (CAIRN_KMS_SECRET_KEY or CAIRN_KMS_VAULT_*).',
    );
  }
  const stored: StoredDefault = { sseAlgorithm: algorithm };
  if (keyId) stored.kmsMasterKeyId = keyId;
  if (bucketKey !== undefined) stored.bucketKeyEnabled = bucketKey === 'true';
  await ctx.storage.updateBucketConfig(bucket, { encryption: JSON.stringify(stored) });
  return emptyResponse(200);
}

export async function getBucketEncryption(ctx: ApiContext, bucket: string): Promise<S3Response> {
  const raw = (await ctx.storage.getBucketConfig(bucket)).encryption;
  if (raw === undefined) throw new S3Error('ServerSideEncryptionConfigurationNotFoundError');
  const stored = JSON.parse(raw) as StoredDefault;
  const apply: Record<string, string> = { SSEAlgorithm: stored.sseAlgorithm };
  if (stored.kmsMasterKeyId) apply.KMSMasterKeyID = stored.kmsMasterKeyId;
  const rule: Record<string, unknown> = { ApplyServerSideEncryptionByDefault: apply };
  if (stored.bucketKeyEnabled !== undefined) rule.BucketKeyEnabled = stored.bucketKeyEnabled;
  return xmlResponse(toXml('ServerSideEncryptionConfiguration', { Rule: rule as XmlValue }));
}

export async function deleteBucketEncryption(ctx: ApiContext, bucket: string): Promise<S3Response> {
  await ctx.storage.updateBucketConfig(bucket, { encryption: null });
  return emptyResponse(204);
}
