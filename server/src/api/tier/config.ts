// A remote tier's configuration as MinIO's admin API carries it (madmin-go's TierConfig: `mc ilm tier add`,
// `cairn admin tier add`), checked as MinIO checks it. Cairn's tiers are S3 endpoints: type `s3` (AWS or any
// S3) and `minio` (another MinIO or Cairn); Azure and GCS tiers are refused, never stored.
import { S3Error } from '../../errors.js';

/** One tier, as Cairn keeps it (the secret in clear only in memory; sealed on the drives, see store.ts). */
export interface Tier {
  /** Upper case; what lifecycle rules name as StorageClass and x-amz-storage-class shows. */
  name: string;
  type: 's3' | 'minio';
  /** http(s)://host[:port] of the remote S3 service. */
  endpoint: string;
  bucket: string;
  /** Key prefix of every object Cairn writes there ('' or ending in '/'). */
  prefix: string;
  region: string;
  /** S3 tiers: the storage class of the objects written there (AWS's STANDARD_IA, GLACIER_IR, ...). */
  storageClass?: string;
  accessKey: string;
  secretKey: string;
}

/** The storage classes Cairn itself has: no tier may take their names (MinIO's rule). */
const RESERVED = new Set(['STANDARD', 'REDUCED_REDUNDANCY']);
const MAX_NAME = 64;

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** `http(s)://host[:port]`, with or without a scheme (madmin sends MinIO tiers' endpoints with one). */
function endpointOf(raw: string, type: Tier['type']): string {
  const withScheme = /^[a-z]+:\/\//i.test(raw) ? raw : `https://${raw}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new S3Error('XMinioAdminTierInvalidConfig', `The ${type} tier's endpoint is not a URL`);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.username || u.password || u.search || u.hash)
    throw new S3Error('XMinioAdminTierInvalidConfig', `The ${type} tier's endpoint must be http(s)://host[:port]`);
  if (u.pathname !== '/' && u.pathname !== '')
    throw new S3Error('XMinioAdminTierInvalidConfig', `The ${type} tier's endpoint must not have a path`);
  return `${u.protocol}//${u.host}`;
}

/** A tier's key prefix: no leading '/', one trailing '/' when not empty. */
export function normalPrefix(p: string): string {
  const trimmed = p.replace(/^\/+/, '').replace(/\/+$/, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Parses madmin's TierConfig JSON (`{Version:"v1", Type:"s3"|"minio", Name, S3|MinIO: {Endpoint, AccessKey,
 * SecretKey, Bucket, Prefix, Region, StorageClass}}`): the S3 error MinIO gives for each bad one.
 */
export function parseTierConfig(body: Record<string, unknown>): Tier {
  if (body.Version !== 'v1') throw new S3Error('XMinioAdminTierInvalidConfigVersion');
  const type = text(body.Type).toLowerCase();
  if (type === 'azure' || type === 'gcs')
    throw new S3Error('XMinioAdminTierTypeUnsupported', `Cairn's remote tiers are S3 endpoints; ${type} is not one`);
  if (type !== 's3' && type !== 'minio') throw new S3Error('XMinioAdminTierTypeUnsupported');
  const name = text(body.Name);
  if (name === '') throw new S3Error('XMinioAdminTierNameEmpty');
  if (name !== name.toUpperCase()) throw new S3Error('XMinioAdminTierNameNotUpperCase');
  if (RESERVED.has(name)) throw new S3Error('XMinioAdminTierReserved');
  // A tier's name is a storage class in headers and XML: printable ASCII without spaces, bounded.
  if (name.length > MAX_NAME || !/^[A-Z0-9_-]+$/.test(name))
    throw new S3Error('XMinioAdminTierInvalidConfig', 'A tier name is up to 64 of A-Z, 0-9, _ and -');
  const section = type === 's3' ? body.S3 : body.MinIO;
  if (typeof section !== 'object' || section === null || Array.isArray(section))
    throw new S3Error('XMinioAdminTierInvalidConfig');
  const c = section as Record<string, unknown>;
  if (c.AWSRole === true || text(c.AWSRoleARN) !== '' || text(c.AWSRoleWebIdentityTokenFile) !== '')
    throw new S3Error('NotImplemented', 'Remote tiers reached through an AWS role are not implemented');
  const accessKey = text(c.AccessKey);
  const secretKey = text(c.SecretKey);
  if (accessKey === '' || secretKey === '') throw new S3Error('XMinioAdminTierMissingCredentials');
  const bucket = text(c.Bucket);
  if (!BUCKET_NAME.test(bucket)) throw new S3Error('XMinioAdminTierInvalidConfig', 'The tier needs a valid bucket');
  const rawEndpoint = text(c.Endpoint);
  const endpoint = endpointOf(rawEndpoint === '' && type === 's3' ? 'https://s3.amazonaws.com' : rawEndpoint, type);
  const storageClass = type === 's3' && text(c.StorageClass) !== '' ? text(c.StorageClass) : undefined;
  return {
    name,
    type,
    endpoint,
    bucket,
    prefix: normalPrefix(text(c.Prefix)),
    region: text(c.Region) || 'us-east-1',
    storageClass,
    accessKey,
    secretKey,
  };
}

/** madmin's TierConfig of a tier as ListTiers answers it: the secret never leaves the server ("REDACTED"). */
export function listedTier(t: Tier): Record<string, unknown> {
  const section = {
    Endpoint: t.endpoint,
    AccessKey: t.accessKey,
    SecretKey: 'REDACTED',
    Bucket: t.bucket,
    Prefix: t.prefix,
    Region: t.region,
    ...(t.storageClass ? { StorageClass: t.storageClass } : {}),
  };
  return { Version: 'v1', Type: t.type, Name: t.name, ...(t.type === 's3' ? { S3: section } : { MinIO: section }) };
}
