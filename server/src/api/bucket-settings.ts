// A bucket's configuration as the API layer uses it: typed and parsed once. Storage keeps the documents
// as text (BucketConfig) and hands out the same frozen object until the configuration changes, so the
// parsed form is cached against that object: a policy, ACL, public access block, ownership rule, CORS,
// notification or lifecycle document is parsed (and a policy compiled) once per change, never per request.
import type { BucketConfig } from '../storage/object-layer.js';
import { readOwnership, readPublicAccessBlock, type ObjectOwnership, type PublicAccessBlock } from './access-config.js';
import type { Acl } from './acl.js';
import { resourceTagsOf } from './bucket-abac.js';
import { parsePolicy, type BucketPolicy } from './bucket-policy.js';
import { parseCors, type CorsRule } from './cors.js';
import { parseLifecycleConfiguration, type LifecycleConfiguration } from './lifecycle/config.js';
import { parseLockConfiguration, type LockConfiguration } from './lock-config.js';
import { parseNotification, type NotificationRule } from './notify/config.js';
import type { ApiContext, Caller } from './types.js';

export interface BucketSettings {
  /** The stored configuration these settings were derived from (versioning, tagging, location, ...). */
  config: BucketConfig;
  /** Access key of the user who created the bucket; undefined: the root user. */
  owner?: string;
  policy?: BucketPolicy;
  /** The bucket's ACL; undefined: the default, the owner alone. */
  acl?: Acl;
  publicAccessBlock: PublicAccessBlock;
  ownership?: ObjectOwnership;
  cors?: CorsRule[];
  /** The object lock configuration (default retention) of a lock-enabled bucket. */
  objectLock?: LockConfiguration;
  /** Default encryption of new objects (PutBucketEncryption; stored as JSON by bucket-encryption.ts). */
  defaultEncryption?: DefaultEncryption;
  /** Which events go to which notification targets. */
  notification?: NotificationRule[];
  /** The lifecycle rules (api/lifecycle). */
  lifecycle?: LifecycleConfiguration;
  /** aws:ResourceTag/<key> of requests on the bucket and its objects: its tags while ABAC is on (bucket-abac.ts). */
  resourceTags?: Record<string, string>;
}

/** A bucket's default encryption of new objects (PutBucketEncryption): SSE-S3, or SSE-KMS with its key. */
export type DefaultEncryption = { algorithm: 'AES256' } | { algorithm: 'aws:kms'; keyId?: string };

const derived = new WeakMap<BucketConfig, BucketSettings>();

function storedAcl(raw: string | undefined): Acl | undefined {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as Acl;
  } catch {
    return undefined; // written by this layer; an unreadable copy counts as the default
  }
}

function storedDefaultEncryption(raw: string | undefined): DefaultEncryption | undefined {
  if (raw === undefined) return undefined;
  try {
    const stored = JSON.parse(raw) as { sseAlgorithm?: string; kmsMasterKeyId?: string };
    if (stored.sseAlgorithm === 'AES256') return { algorithm: 'AES256' };
    if (stored.sseAlgorithm === 'aws:kms') return { algorithm: 'aws:kms', keyId: stored.kmsMasterKeyId };
    return undefined;
  } catch {
    return undefined; // written by this layer
  }
}

function derive(bucket: string, config: BucketConfig): BucketSettings {
  return {
    config,
    owner: config.owner,
    policy: config.policy ? parsePolicy(config.policy, bucket) : undefined,
    acl: storedAcl(config.acl),
    publicAccessBlock: readPublicAccessBlock(config.publicAccessBlock),
    ownership: readOwnership(config.ownershipControls),
    cors: config.cors ? parseCors(config.cors) : undefined,
    objectLock: config.objectLock ? parseLockConfiguration(config.objectLock) : undefined,
    defaultEncryption: storedDefaultEncryption(config.encryption),
    notification: config.notification ? parseNotification(config.notification, {}) : undefined,
    lifecycle: config.lifecycle ? parseLifecycleConfiguration(config.lifecycle) : undefined,
    resourceTags: resourceTagsOf(config),
  };
}

/** The bucket's settings (NoSuchBucket when it does not exist; storage failures as storage reports them). */
export async function bucketSettings(ctx: ApiContext, bucket: string): Promise<BucketSettings> {
  const config = await ctx.storage.getBucketConfig(bucket);
  let s = derived.get(config);
  if (!s) {
    s = derive(bucket, config);
    // Only configurations storage promises to keep unchanged (frozen) may be cached against.
    if (Object.isFrozen(config)) derived.set(config, s);
  }
  return s;
}

/**
 * Does the caller own the bucket with the owner's rights? Buckets without a recorded owner belong to root;
 * the owner is an account (root or a static user), and its credentials (service accounts, sessions) share
 * its rights; IAM users and roles act for the root account but own nothing.
 */
export function ownsBucket(rootKey: string, caller: Caller | undefined, s: BucketSettings): boolean {
  return !!caller?.ownerRights && (s.owner ?? rootKey) === caller.account;
}
