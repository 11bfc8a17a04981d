// A bucket's replication targets ("remote targets" in MinIO's words): other S3 endpoints (another Cairn,
// MinIO, any S3) a bucket's ReplicationConfiguration may name by ARN. Added through MinIO's admin API
// (madmin's BucketTarget JSON: `mc admin bucket remote add`, `cairn admin replicate add`), kept with the
// bucket's configuration (BucketConfig.replicationTargets: JSON, each secret sealed with a key derived from
// the root credentials, iam/seal.ts), and never listed back with their secret.
import { randomUUID } from 'node:crypto';
import { S3Error } from '../../errors.js';
import type { BucketConfig } from '../../storage/object-layer.js';
import type { Sealer } from '../iam/seal.js';

/** One target, as Cairn uses it (the secret in clear only in memory). */
export interface RemoteTarget {
  /** `arn:minio:replication:<region>:<id>:<target bucket>`: what replication rules name as Destination Bucket. */
  arn: string;
  sourceBucket: string;
  /** host[:port] (madmin's form), reached over https when `secure`. */
  endpoint: string;
  secure: boolean;
  targetBucket: string;
  region: string;
  /** Storage class of the replicas (absent: the target's default). */
  storageClass?: string;
  accessKey: string;
  secretKey: string;
}

type StoredTarget = Omit<RemoteTarget, 'secretKey'> & { sealedSecret: string };

const FORMAT = 'cairn-replication-targets';
const VERSION = 1;
const ARN_PREFIX = 'arn:minio:replication:';
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const HOST_PORT = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

const text = (v: unknown): string => (typeof v === 'string' ? v : '');
const label = (bucket: string, arn: string) => `replication-target\0${bucket}\0${arn}`;

/** Does this ARN have the shape of a replication target's (MinIO's ParseARN: 6 parts, id and bucket set)? */
export function isTargetArn(arn: string): boolean {
  const parts = arn.split(':');
  return arn.startsWith(ARN_PREFIX) && parts.length === 6 && parts[4] !== '' && parts[5] !== '';
}

/**
 * madmin's BucketTarget (`{endpoint, secure, credentials: {accessKey, secretKey}, targetbucket, type, region,
 * ...}`) as a new target of `sourceBucket`, or MinIO's error for a bad one. Asks Cairn does not honour
 * (synchronous replication, a bandwidth limit, skipping TLS verification, virtual-host addressing) are
 * refused, never stored.
 */
export function parseBucketTarget(body: Record<string, unknown>, sourceBucket: string): RemoteTarget {
  if (text(body.type) !== 'replication') throw new S3Error('XMinioAdminRemoteARNTypeInvalid');
  const endpoint = text(body.endpoint);
  if (!HOST_PORT.test(endpoint))
    throw new S3Error('XMinioAdminInvalidArgument', 'The target endpoint must be host[:port], without a scheme');
  const creds = (body.credentials ?? {}) as Record<string, unknown>;
  const accessKey = text(creds.accessKey);
  const secretKey = text(creds.secretKey);
  if (accessKey === '' || secretKey === '')
    throw new S3Error('XMinioAdminInvalidArgument', 'The target needs an access key and a secret key');
  if (text(creds.sessionToken) !== '')
    throw new S3Error('NotImplemented', 'Temporary credentials for a replication target are not implemented');
  const targetBucket = text(body.targetbucket);
  if (!BUCKET_NAME.test(targetBucket))
    throw new S3Error('XMinioAdminInvalidArgument', 'The target needs a valid bucket name');
  if (body.replicationSync === true)
    throw new S3Error('NotImplemented', 'Synchronous replication is not implemented: replication is asynchronous');
  if (typeof body.bandwidthlimit === 'number' && body.bandwidthlimit > 0)
    throw new S3Error('NotImplemented', 'A bandwidth limit for replication is not implemented');
  if (body.insecureTLS === true)
    throw new S3Error('NotImplemented', "Skipping the verification of a target's TLS certificate is not implemented");
  const path = text(body.path);
  if (path !== '' && path !== 'auto' && path !== 'on')
    throw new S3Error('NotImplemented', 'Replication targets are reached path-style only');
  if (body.edge === true) throw new S3Error('NotImplemented', 'Edge replication targets are not implemented');
  const region = text(body.region);
  const storageClass = text(body.storageclass) || undefined;
  return {
    arn: `${ARN_PREFIX}${region}:${randomUUID()}:${targetBucket}`,
    sourceBucket,
    endpoint,
    secure: body.secure === true,
    targetBucket,
    region,
    storageClass,
    accessKey,
    secretKey,
  };
}

/** madmin's BucketTarget of a target as ListRemoteTargets answers it: the secret never leaves the server. */
export function listedTarget(t: RemoteTarget): Record<string, unknown> {
  return {
    sourcebucket: t.sourceBucket,
    endpoint: t.endpoint,
    credentials: { accessKey: t.accessKey },
    targetbucket: t.targetBucket,
    secure: t.secure,
    path: 'on',
    arn: t.arn,
    type: 'replication',
    region: t.region,
    ...(t.storageClass ? { storageclass: t.storageClass } : {}),
    replicationSync: false,
    disableProxy: true,
    // Health is not tracked apart from replication itself.
    totalDowntime: 0,
    lastOnline: '0001-01-01T00:00:00Z',
    isOnline: true,
    latency: { curr: 0, avg: 0, max: 0 },
    edge: false,
    edgeSyncBeforeExpiry: false,
    offlineCount: 0,
    insecureTLS: false,
  };
}

/** The bucket's targets, secrets opened; one whose secret cannot be opened (root credentials changed) is left out. */
export function storedTargets(config: BucketConfig, bucket: string, sealer: Sealer): RemoteTarget[] {
  if (!config.replicationTargets) return [];
  const doc = JSON.parse(config.replicationTargets) as { format?: string; version?: number; targets?: StoredTarget[] };
  if (doc.format !== FORMAT || doc.version !== VERSION)
    throw new S3Error('InternalError', 'The stored replication targets have an unknown format');
  const out: RemoteTarget[] = [];
  for (const { sealedSecret, ...t } of doc.targets ?? []) {
    const secret = sealer.open('replication-secrets', Buffer.from(sealedSecret, 'base64'), label(bucket, t.arn));
    if (secret !== undefined) out.push({ ...t, secretKey: secret.toString('utf8') });
  }
  return out;
}

/** The document BucketConfig.replicationTargets keeps (null: no targets). */
export function targetsDocument(targets: RemoteTarget[], bucket: string, sealer: Sealer): string | null {
  if (targets.length === 0) return null;
  const stored: StoredTarget[] = targets.map(({ secretKey, ...t }) => ({
    ...t,
    sealedSecret: sealer
      .seal('replication-secrets', Buffer.from(secretKey, 'utf8'), label(bucket, t.arn))
      .toString('base64'),
  }));
  return JSON.stringify({ format: FORMAT, version: VERSION, targets: stored });
}
